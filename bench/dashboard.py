"""Benchmark: the decision dashboard at chain scale — the page as served (a snapshot counted ahead),
as counted by a request (from the tallies kept with the writes), and the old path (re-aggregating
the raw rows), side by side in one run.

    .venv/bin/python bench/dashboard.py [--findings 1000000]            # SQLite (temporary file)
    .venv/bin/python bench/dashboard.py --pg URL [--findings 1000000]   # PostgreSQL (temporary database)
    .venv/bin/python bench/dashboard.py --database URL                  # a database seeded earlier, kept

Seeds a company with `flask seed-scale` (webapp/demo/scale.py: ~2,000 sites visited monthly for 3
years at 1M findings, rectification histories) — or uses one seeded earlier (`--database`) — then
for each page (quarter, year, a month with a department filter, the htmx fragment for one site)
times the whole page through the test client three ways:
- **served**: what a manager gets — the snapshot is up to date (webapp/results/dashboard/snapshots.py);
- **counted**: the request counts the figures itself from the tallies (the first reader of a day, or
  no worker running; DASHBOARD_MAX_STALE_SECONDS = -1 forces it) — also what one recount by the job
  queue costs, i.e. how far behind the page can be after a write while a worker runs;
- **baseline**: the old page, counting from the raw rows every time.
Then, after a write (a finding added), it checks that the page says it is behind, runs the queue's
recount, and checks that the snapshot equals a full recount from the raw rows. Prints p50 / p95 per
scenario and the ratios baseline ÷ served and baseline ÷ counted. A temporary database is removed
whatever happens; a kept one is left as it was, apart from the snapshots and the finding added. Not part
of the test suite.
"""

import argparse
import os
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import login, make_app, open_database, timed  # noqa: E402  (bench/ is the script directory)

PASSWORD = "bench-password-2026"
TZ = "Asia/Shanghai"
TODAY = date(2026, 11, 20)
BUDGET_MS = 150
PATHS = ("served", "counted", "baseline")


def run(database, findings: int, runs: int, baseline_runs: int) -> dict:
    import time_machine

    from webapp.results.dashboard import operations, tallies

    results = {}
    try:
        with time_machine.travel("2026-11-20 02:00 +0000", tick=True):
            app, ids = make_app(database, findings, TODAY, PASSWORD)
            app.config["HUEY_URL"] = "memory://"
            dialect = "PostgreSQL" if database.url.startswith("postgresql") else "SQLite"
            print(f"\n{dialect}, {ids['findings']:,} findings; served and counted {runs} runs, baseline "
                  f"{baseline_runs} (ms p50 / p95; ratios of p95)")
            client = app.test_client()
            login(client, "scale-manager", PASSWORD)
            dept, site = ids["department_ids"][1], ids["site_ids"][3]
            pages = [("page: quarter", "/results/", {}),
                     ("page: year", "/results/?period=2026", {}),
                     ("page: month + department", f"/results/?period=2026-11&department_id={dept}", {}),
                     ("page: htmx fragment, one site", f"/results/?site_id={site}", {"HX-Request": "true"})]
            serves, max_stale = tallies.serves, app.config["DASHBOARD_MAX_STALE_SECONDS"]

            def use(path: str):
                operations.tallies.serves = (lambda _f: False) if path == "baseline" else serves
                app.config["DASHBOARD_MAX_STALE_SECONDS"] = max_stale if path == "served" else -1

            try:
                for label, url, headers in pages:
                    row = {}
                    for path in PATHS:
                        use(path)

                        def get(url=url, headers=headers, path=path):
                            r = client.get(url, headers=headers)
                            assert r.status_code == 200, (url, r.status_code)
                            if path == "served":
                                assert b"Newer records" not in r.data and "较新的记录".encode() not in r.data

                        row[path] = timed(get, baseline_runs if path == "baseline" else runs)
                    results[label] = row
                    _print(label, row)
            finally:
                use("served")
            results["after a write"] = _after_a_write(app, client, ids)
    finally:
        database.close()
    return results


def _after_a_write(app, client, ids) -> dict:
    """A finding added: the page says it is behind; the queue's recount equals the raw rows. Requests
    run outside any app context of this script (each gets its own, as in a server)."""
    import time

    from sqlalchemy import select

    from webapp.authz import COMPANY_WIDE
    from webapp.core.models import utcnow
    from webapp.extensions import db
    from webapp.jobs import get_huey
    from webapp.models import Finding, Visit
    from webapp.results.dashboard import measures as m
    from webapp.results.dashboard import snapshots
    from webapp.results.dashboard.operations import build_dashboard
    from webapp.results.periods import period_containing

    out = {}
    for kind, url in (("quarter", "/results/"), ("year", "/results/?period=2026")):
        client.get(url)  # up to date
        with app.app_context():  # a write of its own (as a form or the sync push would make it)
            visit = db.session.scalar(select(Visit).where(Visit.site_id == ids["site_ids"][0]).order_by(Visit.id)
                                      .limit(1))
            db.session.add(Finding(visit_id=visit.id, site_id=visit.site_id, department_id=visit.department_id,
                                   supervisor_id=visit.supervisor_id, title="基准测试新增问题", severity="high",
                                   captured_at=utcnow(), status="open", review_status="confirmed"))
            db.session.commit()
        html = client.get(url).get_data(as_text=True)
        behind = "Newer records" in html or "较新的记录" in html
        huey = get_huey(app)
        queued = []
        while (task := huey.dequeue()) is not None:  # as a worker takes them
            queued.append(task)
        tasks = [t for t in queued if t.name == "dashboard_recount"]
        started = time.perf_counter()
        for task in tasks:
            huey.execute(task)
        recount_s = time.perf_counter() - started
        with app.app_context():
            period = period_containing(TODAY, kind)
            key = snapshots.snapshot_key(period, None, None, TODAY)
            kept = snapshots.decode(db.session.get(snapshots.DashboardSnapshot, key).payload)
            same = kept == build_dashboard(m.Filters(COMPANY_WIDE), period, TODAY, TZ, source=m)
        print(f"  after a write, {kind}: page said it was behind: {'yes' if behind else 'NO'}; "
              f"{len(tasks)} recount queued, ran in {recount_s:.2f} s; snapshot = full recount from the raw rows: "
              f"{'yes' if same else 'NO'}", flush=True)
        assert behind and len(tasks) == 1 and same
        out[kind] = {"recount_s": recount_s, "same": same}
    return out


def _print(label, row):
    s, c, b = row["served"], row["counted"], row["baseline"]
    flag = "" if s[1] <= BUDGET_MS else "  <-- over budget"
    print(f"  {label:30s} served {s[0]:6.1f} / {s[1]:6.1f}   counted {c[0]:7.1f} / {c[1]:7.1f}   "
          f"baseline {b[0]:8.1f} / {b[1]:8.1f}   ×{b[1] / s[1]:6.1f} served, ×{b[1] / c[1]:4.1f} counted{flag}",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", help="PostgreSQL URL of a server where a temporary database may be created")
    ap.add_argument("--database", help="a database seeded earlier by flask seed-scale (SQLAlchemy URL), kept")
    ap.add_argument("--findings", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--baseline-runs", type=int, default=5)
    a = ap.parse_args()
    print(f"load average: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} on {os.cpu_count()} cores")
    worst = 0.0
    for n in a.findings[:1] if a.database else a.findings:
        for label, row in run(open_database(a.database, a.pg, "bench-dashboard"), n, a.runs, a.baseline_runs).items():
            if label.startswith("page"):
                worst = max(worst, row["served"][1])
    print(f"worst served p95: {worst:.1f} ms (budget {BUDGET_MS} ms); load average after: {os.getloadavg()[0]:.1f}")
    sys.exit(0 if worst <= BUDGET_MS else 1)


if __name__ == "__main__":
    main()
