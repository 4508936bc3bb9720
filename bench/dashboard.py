"""Benchmark: the decision dashboard at 100,000 findings (issue budget: p95 < 200 ms per query).

    .venv/bin/python bench/dashboard.py                 # SQLite (temp file)
    .venv/bin/python bench/dashboard.py --pg URL        # PostgreSQL (a temporary database is made)

Bulk-inserts N findings over the last 12 months (more in recent months; 8 departments, 40 sites,
15 checklist items, 10 supervisors; realistic severities, ~30 % repeats), rectifications for most of
them (accepted on time, late, after a failed round, or still rectifying/overdue) and 2,000 planned
visits. Then times every measure of webapp/results/dashboard/measures.py as the dashboard calls it
(quarter so far vs the previous one, grouped by department / area / site / severity / month /
department × item) and the whole page through the test client (quarter, year, month + department).
Prints p50/p95/max per query. Not part of the test suite.
"""

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import login, timed  # noqa: E402  (bench/ is the script directory)
from sqlalchemy import create_engine, insert, text  # noqa: E402

AREAS = ["process", "service", "efficiency", "risk", "teamwork"]
SEVERITIES, SEVERITY_WEIGHTS = ["low", "medium", "high", "critical"], [35, 40, 18, 7]
PASSWORD = "bench-password-2026"
TZ = "Asia/Shanghai"
BUDGET_MS = 200


def seed(app, n: int, today: date) -> dict:
    from webapp.auth.models import User
    from webapp.checklists.models import ChecklistTemplate, TemplateItem
    from webapp.extensions import db
    from webapp.findings.models import Finding
    from webapp.org.models import Department, Site
    from webapp.plans.models import Plan
    from webapp.rectification.models import Rectification
    from webapp.visits.models import Visit

    rnd = random.Random(42)
    local = ZoneInfo(TZ)
    with app.app_context():
        depts = [Department(code=f"D{i}", name=f"部门{i}", name_en=f"Dept {i}") for i in range(8)]
        db.session.add_all(depts)
        db.session.flush()
        sites = [Site(code=f"S{i:02d}", name=f"场所{i}", department_id=depts[i % 8].id) for i in range(40)]
        manager = User(username="bench-manager", display_name="经理", role="manager", password_hash="")
        manager.set_password(PASSWORD)
        sups = [User(username=f"bench-sup{i}", display_name=f"督导{i}", role="supervisor", password_hash="")
                for i in range(10)]
        tpl = ChecklistTemplate(code="B", revision=1, name="模板")
        db.session.add_all([*sites, manager, *sups, tpl])
        db.session.flush()
        items = [TemplateItem(template_id=tpl.id, area=AREAS[i // 3], code=f"I{i}", title=f"检查项{i}", position=i)
                 for i in range(15)]
        plan = Plan(title="年度计划", period_type="annual", period_start=today - timedelta(days=365),
                    period_end=today + timedelta(days=30), status="published", author_id=manager.id)
        db.session.add_all([*items, plan])
        db.session.flush()
        t0 = time.perf_counter()
        visits = []
        for i in range(2000):
            s = sites[i % 40]
            day = today - timedelta(days=rnd.randint(-20, 365))
            visits.append({"id": str(uuid.uuid4()), "version": 1, "has_conflict": False, "site_id": s.id,
                           "department_id": s.department_id, "template_id": tpl.id, "plan_id": plan.id,
                           "supervisor_id": sups[i % 10].id, "scheduled_for": day, "preparation_done": [],
                           "status": "completed" if day < today and rnd.random() < 0.93 else "scheduled",
                           "created_at": t0_dt(), "updated_at": t0_dt()})
        db.session.execute(insert(Visit), visits)
        db.session.commit()
        visit_rows = [(v["id"], v["site_id"], v["department_id"], v["supervisor_id"]) for v in visits]
        # Departments get different weights so the comparison has something to find.
        dept_weight = {d.id: 1 + i % 4 for i, d in enumerate(depts)}
        cum, total = [], 0
        for v in visit_rows:
            total += dept_weight[v[2]]
            cum.append(total)
        last_by_pair: dict = {}
        findings, rects = [], []
        minutes = 365 * 24 * 60
        for _ in range(n):
            vid, site, dept, sup = rnd.choices(visit_rows, cum_weights=cum)[0]
            item = rnd.choice(items)
            # Recent months a little busier: the age skews towards today.
            age = int(minutes * (rnd.random() ** 1.2))
            captured = datetime.combine(today, dtime(12), local).astimezone(UTC) - timedelta(minutes=age)
            fid = str(uuid.uuid4())
            repeat_of = last_by_pair.get((site, item.id)) if rnd.random() < 0.3 else None
            last_by_pair[(site, item.id)] = fid
            severity = rnd.choices(SEVERITIES, weights=SEVERITY_WEIGHTS)[0]
            status = "open"
            if rnd.random() < 0.88:
                deadline = captured.astimezone(local).date() + timedelta(days=rnd.choice((7, 14, 21, 30)))
                outcome = rnd.choices(("on_time", "late", "failed_once", "open"), weights=(60, 15, 15, 10))[0]
                accepted, rnd_round, rstatus = None, 1, "rectifying"
                if outcome == "on_time":
                    accepted = datetime.combine(deadline - timedelta(days=rnd.randint(0, 5)), dtime(15), local)
                elif outcome == "late":
                    accepted = datetime.combine(deadline + timedelta(days=rnd.randint(1, 10)), dtime(15), local)
                elif outcome == "failed_once":
                    deadline += timedelta(days=14)
                    accepted, rnd_round = datetime.combine(deadline - timedelta(days=2), dtime(15), local), 2
                if accepted is not None and accepted.date() >= today:
                    accepted = None
                if accepted is not None:
                    rstatus, status = "accepted", "closed"
                else:
                    status = rstatus = rnd.choice(("rectifying", "rectifying", "pending_acceptance"))
                rects.append({"id": str(uuid.uuid4()), "finding_id": fid, "measures": "整改", "owner": f"责任人{rnd.randint(1, 60)}",
                              "deadline": deadline, "status": rstatus, "round": rnd_round, "submitted_by": manager.id,
                              "accepted_at": accepted.astimezone(UTC) if accepted else None,
                              "created_at": captured, "updated_at": captured})
            findings.append({
                "id": fid, "version": 1, "has_conflict": False, "visit_id": vid, "site_id": site, "supervisor_id": sup,
                "department_id": dept, "title": f"问题{rnd.randint(1, 999)}", "description": "抽查发现问题",
                "impact": "影响服务", "area": item.area, "item_id": item.id, "severity": severity, "status": status,
                "photos": [], "captured_at": captured, "repeat_of_id": repeat_of, "created_at": captured,
                "updated_at": captured, "responsible_person": None,
            })
        # Insert in capture order so a repeat's predecessor always exists (foreign key).
        order = {f["id"]: f["captured_at"] for f in findings}
        findings.sort(key=lambda f: f["captured_at"])
        for f in findings:
            if f["repeat_of_id"] and order[f["repeat_of_id"]] > f["captured_at"]:
                f["repeat_of_id"] = None
        for i in range(0, len(findings), 5000):
            db.session.execute(insert(Finding), findings[i:i + 5000])
        for i in range(0, len(rects), 5000):
            db.session.execute(insert(Rectification), rects[i:i + 5000])
        db.session.commit()
        # Fresh statistics (and on PostgreSQL the visibility map for index-only scans), as autovacuum
        # would have them on a live database.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"))
        print(f"seeded {n} findings, {len(rects)} rectifications, {len(visits)} visits "
              f"in {time.perf_counter() - t0:.1f}s")
        return {"manager_id": manager.id, "depts": [d.id for d in depts], "sites": [s.id for s in sites]}


def t0_dt():
    return datetime(2026, 1, 1, tzinfo=UTC)


def run(url: str | None, n: int, runs: int) -> int:
    from flask_migrate import upgrade

    from webapp import create_app

    tmp = tempfile.mkdtemp(prefix="bench-dashboard-")
    drop = None
    if url:
        name = f"bench_dashboard_{os.getpid()}_{secrets.token_hex(3)}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        db_url = url.rsplit("/", 1)[0] + "/" + name

        def drop():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        db_url = f"sqlite:///{tmp}/bench.db"
    app = None
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "MEDIA_ROOT": f"{tmp}/media",
                          "SECRET_KEY": "bench", "INSTANCE_PATH": tmp})
        with app.app_context():
            upgrade()
        today = datetime.now(ZoneInfo(TZ)).date()
        ids = seed(app, n, today)
        from webapp.auth.models import User
        from webapp.extensions import db
        from webapp.results.dashboard import measures as m
        from webapp.results.dashboard.operations import build_dashboard
        from webapp.results.periods import period_containing

        dialect = "PostgreSQL" if url else "SQLite"
        print(f"\n{dialect}, {n} findings, {runs} runs per query (ms: wall p50 / wall p95 / wall max / CPU p95; "
              "on PostgreSQL the database server's time is in the wall time only)")
        worst = 0.0

        def report(label, fn, count=runs):
            nonlocal worst
            p50, p95, mx, cpu95 = timed(fn, count)
            worst = max(worst, p95)
            flag = "" if p95 < BUDGET_MS else "  <-- over budget"
            print(f"  {label:44s} {p50:7.1f} / {p95:7.1f} / {mx:7.1f} / {cpu95:7.1f}{flag}", flush=True)

        with app.app_context():
            user = db.session.get(User, ids["manager_id"])
            f = m.Filters(user)
            fd = m.Filters(user, department_id=ids["depts"][1])
            period = period_containing(today, "quarter")
            cur, prev = m.windows_for(period, today)
            months = m.month_windows(cur, 12)
            year = m.windows_for(period_containing(today, "year"), today)[0]
            both = [("now", cur), ("before", prev)]
            queries = [
                ("findings, this vs previous (one scan)", lambda: m.finding_counts_by_window(f, both, TZ)),
                ("findings, year so far", lambda: m.finding_counts(f, year, TZ)),
                ("by department, this vs previous", lambda: m.finding_counts_by_window(f, both, TZ, by=("department",))),
                ("by area, this vs previous", lambda: m.finding_counts_by_window(f, both, TZ, by=("area",))),
                ("by site, this vs previous", lambda: m.finding_counts_by_window(f, both, TZ, by=("site",))),
                ("by severity", lambda: m.finding_counts(f, cur, TZ, by=("severity",))),
                ("by month, 12 months", lambda: m.finding_counts_by_window(f, months, TZ)),
                ("by department × item, this vs previous",
                 lambda: m.finding_counts_by_window(f, both, TZ, by=("department", "item", "area"))),
                ("findings, one department", lambda: m.finding_counts(fd, cur, TZ)),
                ("rectification rates, this vs previous", lambda: m.rectification_rates_by_window(f, both, TZ, today)),
                ("rectification rates, year by department",
                 lambda: m.rectification_rates(f, year, TZ, today, by=("department",))),
                ("overdue rectifications (now)", lambda: m.overdue_rectifications(f, TZ, today)),
                ("overdue rectifications by department",
                 lambda: m.overdue_rectifications(f, TZ, today, by=("department",))),
                ("plan completion", lambda: m.plan_completion(f, cur, today)),
                ("repeat problems: top site × item", lambda: m.repeat_pairs(f, cur, TZ)),
                ("open rectifications of 3 departments", lambda: m.open_rectifications(f, cur, TZ, ids["depts"][:3])),
                ("build_dashboard (all of the above)", lambda: build_dashboard(f, period, today, TZ)),
            ]
            for label, fn in queries:
                report(label, fn)
            db.session.remove()

        client = app.test_client()
        login(client, "bench-manager", PASSWORD)
        pages = [("page: quarter (default)", "/results/"),
                 ("page: year", f"/results/?period={today.year}"),
                 ("page: month + department", f"/results/?period={today:%Y-%m}&department_id={ids['depts'][1]}"),
                 ("page: htmx fragment, site", f"/results/?site_id={ids['sites'][3]}")]
        for label, path in pages:
            def get(path=path, headers={"HX-Request": "true"} if "htmx" in label else {}):  # noqa: B006
                r = client.get(path, headers=headers)
                assert r.status_code == 200, (path, r.status_code)
            report(label, get, max(10, runs // 3))
        print(f"worst p95: {worst:.1f} ms (budget {BUDGET_MS} ms)")
        return 0 if worst < BUDGET_MS else 1
    finally:
        if drop:
            from webapp.extensions import db

            if app is not None:
                with app.app_context():
                    db.engine.dispose()
            drop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", help="PostgreSQL URL of a server where a temporary database may be created")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=30)
    a = ap.parse_args()
    sys.exit(run(a.pg, a.rows, a.runs))


if __name__ == "__main__":
    main()
