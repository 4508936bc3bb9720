"""Benchmark: the findings review list at 100,000 findings (issue budget: p95 server time < 50 ms).

    .venv/bin/python bench/findings_list.py                 # SQLite (temp file)
    .venv/bin/python bench/findings_list.py --pg URL        # PostgreSQL (a temporary database is made)

Seeds N findings with Chinese titles, then times real requests through the app (routing, scope,
query, template rendering) as a manager and as a supervisor: the filtered list, load-more pages and
full-text search (3+ characters: FTS5 trigram / pg_trgm; 1–2 characters: the LIKE fallback).
Prints p50/p95/max per scenario. Not part of the test suite.
"""

import argparse
import itertools
import os
import random
import secrets
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import login, timed  # noqa: E402  (bench/ is the script directory)
from sqlalchemy import create_engine, insert, text  # noqa: E402

SUBJECTS = ["收银台", "消防通道", "客服热线", "仓库", "退货流程", "出库复核", "门店陈列", "排班", "交接记录", "保险柜",
            "会员系统", "投诉处理", "拣货单据", "补货", "培训记录", "设备巡检", "现金日结", "服务话术", "监控录像", "盘点"]
PROBLEMS = ["未按规定执行", "记录缺失", "堆放杂物", "接通率偏低", "审批环节缺失", "签字不全", "超时未处理", "标识不清",
            "数据不一致", "流程不合理"]
DETAILS = ["抽查发现多处问题", "现场核实存在隐患", "与制度要求不符", "影响客户满意度", "存在资金安全风险", "造成资源浪费"]
AREAS = ["process", "service", "efficiency", "risk", "teamwork"]
SEVERITIES = ["low", "medium", "high", "critical"]
STATUSES = ["open", "rectifying", "pending_acceptance", "closed"]
PASSWORD = "bench-password-2026"


def seed(app, n: int) -> dict:
    from webapp.auth.models import User
    from webapp.checklists.models import ChecklistTemplate, TemplateItem
    from webapp.extensions import db
    from webapp.findings.models import Finding
    from webapp.org.models import Department, Site
    from webapp.rectification.models import Rectification
    from webapp.visits.models import Visit

    rnd = random.Random(42)
    with app.app_context():
        depts = [Department(code=f"D{i}", name=f"部门{i}", name_en=f"Dept {i}") for i in range(8)]
        db.session.add_all(depts)
        db.session.flush()
        sites = [Site(code=f"S{i}", name=f"场所{i}", department_id=depts[i % 8].id) for i in range(40)]
        manager = User(username="bench-manager", display_name="经理", role="manager", password_hash="")
        sups = [User(username=f"bench-sup{i}", display_name=f"督导{i}", role="supervisor", password_hash="")
                for i in range(10)]
        head = User(username="bench-head", display_name="部长", role="dept_head", password_hash="",
                    department_id=depts[0].id)
        for u in [manager, head, *sups]:
            u.set_password(PASSWORD)
        tpl = ChecklistTemplate(code="B", revision=1, name="模板")
        db.session.add_all([*sites, manager, head, *sups, tpl])
        db.session.flush()
        items = [TemplateItem(template_id=tpl.id, area=AREAS[i % 5], code=f"I{i}", title=f"检查项{i}", position=i)
                 for i in range(15)]
        db.session.add_all(items)
        db.session.flush()
        visits = []
        for i in range(400):
            s = sites[i % 40]
            visits.append(Visit(site_id=s.id, department_id=s.department_id, template_id=tpl.id,
                                supervisor_id=sups[i % 10].id, status="completed", scheduled_for=date(2026, 1, 1)))
        db.session.add_all(visits)
        db.session.commit()
        ids = {"visits": [(v.id, v.site_id, v.department_id, v.supervisor_id) for v in visits],
               "items": [(it.id, it.area) for it in items], "depts": [d.id for d in depts],
               "sites": [s.id for s in sites], "sups": [u.id for u in sups], "sup_usernames": [u.username for u in sups]}
        start = datetime(2024, 1, 1, tzinfo=UTC)
        finding_ids = []
        t0 = time.perf_counter()
        for chunk in range(0, n, 5000):
            rows = []
            for _ in range(min(5000, n - chunk)):
                vid, site, dept, sup = rnd.choice(ids["visits"])
                item, area = rnd.choice(ids["items"])
                fid = str(uuid.uuid4())
                finding_ids.append(fid)
                rows.append({
                    "id": fid, "version": 1, "has_conflict": rnd.random() < 0.01, "visit_id": vid, "site_id": site,
                    "supervisor_id": sup, "department_id": dept,
                    "title": f"{rnd.choice(SUBJECTS)}{rnd.choice(PROBLEMS)}",
                    "description": f"{rnd.choice(DETAILS)},{rnd.choice(SUBJECTS)}需整改(编号{rnd.randint(1, 99999)})",
                    "impact": rnd.choice(DETAILS), "area": area, "item_id": item,
                    "severity": rnd.choice(SEVERITIES), "status": rnd.choice(STATUSES), "photos": [],
                    "captured_at": start + timedelta(minutes=rnd.randint(0, 60 * 24 * 900)),
                    "repeat_of_id": None, "created_at": start, "updated_at": start,
                })
            db.session.execute(insert(Finding), rows)
            db.session.commit()
        rects = [{"id": str(uuid.uuid4()), "finding_id": fid, "measures": "整改", "owner": "某人",
                  "deadline": date(2026, 1, 1) + timedelta(days=rnd.randint(-200, 400)), "status": "rectifying",
                  "round": 1, "submitted_by": manager.id, "created_at": start, "updated_at": start}
                 for fid in rnd.sample(finding_ids, n // 10)]
        for i in range(0, len(rects), 5000):
            db.session.execute(insert(Rectification), rects[i:i + 5000])
        db.session.commit()
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        print(f"seeded {n} findings in {time.perf_counter() - t0:.1f}s")
        return ids


def measure(client, urls, runs, headers=None):
    """Timing of `runs` requests over `urls` in turn (see _timing.timed)."""
    turn = itertools.cycle(urls)

    def one():
        url = next(turn)
        r = client.get(url, headers=headers or {})
        assert r.status_code == 200, (url, r.status_code)

    return timed(one, runs, warm_up=False)


def run(url: str | None, n: int, runs: int) -> int:
    from flask_migrate import upgrade

    from webapp import create_app

    tmp = tempfile.mkdtemp(prefix="bench-findings-")
    drop = None
    if url:
        name = f"bench_findings_{os.getpid()}_{secrets.token_hex(3)}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        db_url = url.rsplit("/", 1)[0] + "/" + name

        def drop():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        db_url = f"sqlite:///{tmp}/bench.db"
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "MEDIA_ROOT": f"{tmp}/media",
                          "SECRET_KEY": "bench", "INSTANCE_PATH": tmp})
        with app.app_context():
            upgrade()
        ids = seed(app, n)
        client = app.test_client()
        login(client, "bench-manager", PASSWORD)
        sup_client = app.test_client()
        login(sup_client, ids["sup_usernames"][0], PASSWORD)
        rnd = random.Random(7)
        filters = []
        for _ in range(40):
            f = {}
            for key, values in (("department_id", ids["depts"]), ("site_id", ids["sites"]),
                                ("severity", SEVERITIES), ("status", STATUSES), ("area", AREAS),
                                ("supervisor_id", ids["sups"])):
                if rnd.random() < 0.35:
                    f[key] = rnd.choice(values)
            if rnd.random() < 0.3:
                f["date_from"], f["date_to"] = "2025-01-01", "2025-06-30"
            filters.append("&".join(f"{k}={v}" for k, v in f.items()))
        with app.app_context():
            from webapp.extensions import db
            from webapp.findings.models import Finding
            from webapp.findings.search import encode_cursor
            deep = db.session.scalars(
                __import__("sqlalchemy").select(Finding).order_by(Finding.captured_at.desc(), Finding.id.desc())
                .offset(5000).limit(1)).one()
            cursor = encode_cursor(deep)
        scenarios = [
            ("list, no filter", client, ["/findings/"]),
            ("list, random filters", client, [f"/findings/?{q}" for q in filters]),
            ("list, overdue", client, ["/findings/?overdue=1", "/findings/?overdue=1&severity=high"]),
            ("list, conflict flag", client, ["/findings/?conflict=1"]),
            ("load more (htmx, deep cursor)", client, [f"/findings/?cursor={cursor}",
                                                       f"/findings/?cursor={cursor}&severity=low"]),
            ("search 3+ chars", client, ["/findings/?q=" + w for w in
                                         ("消防通道", "签字不全", "收银台未按", "资金安全风险", "流程不合理", "编号12345")]),
            ("search 2 chars (LIKE)", client, ["/findings/?q=" + w for w in ("消防", "签字", "盘点", "排班")]),
            ("search + filter", client, ["/findings/?q=消防通道&severity=high", "/findings/?q=签字不全&status=open"]),
            ("supervisor scope, filtered", sup_client, ["/findings/", "/findings/?severity=critical",
                                                        "/findings/?q=收银台"]),
        ]
        dialect = "PostgreSQL" if url else "SQLite"
        print(f"\n{dialect}, {n} findings, {runs} requests per scenario "
              f"(ms: wall p50 / wall p95 / wall max / app CPU p95)")
        worst = 0.0
        for name, c, urls in scenarios:
            measure(c, urls, 3)  # warm up
            hx = {"HX-Request": "true"} if "htmx" in name else None
            p50, p95, mx, cpu95 = measure(c, urls, runs, hx)
            worst = max(worst, p95)
            flag = "" if p95 < 50 else "  <-- over budget"
            print(f"  {name:32s} {p50:6.1f} / {p95:6.1f} / {mx:6.1f} / {cpu95:6.1f}{flag}")
        print(f"worst p95: {worst:.1f} ms (budget 50 ms)")
        return 0 if worst < 50 else 1
    finally:
        if drop:
            from webapp.extensions import db

            with app.app_context():
                db.engine.dispose()
            drop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", help="PostgreSQL URL of a server where a temporary database may be created")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=100)
    a = ap.parse_args()
    sys.exit(run(a.pg, a.rows, a.runs))


if __name__ == "__main__":
    main()
