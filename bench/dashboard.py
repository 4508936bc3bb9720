"""Benchmark: the decision dashboard at chain scale — tallies kept with the writes against the old path
(re-aggregating the raw rows), side by side in one run.

    .venv/bin/python bench/dashboard.py [--findings 1000000]            # SQLite (temporary file)
    .venv/bin/python bench/dashboard.py --pg URL [--findings 1000000]   # PostgreSQL (temporary database)
    .venv/bin/python bench/dashboard.py --findings 100000 250000 1000000  # a growth curve

Seeds a company with `flask seed-scale` (webapp/demo/scale.py: ~2,000 sites visited monthly for 3
years at 1M findings, rectification histories), then for each period (quarter, year, a month with a
department filter, the htmx fragment for one site) times the whole page through the test client and
build_dashboard() alone, first from the tallies, then from the raw rows (measures.py — the baseline),
and checks both give the same figures. Prints p50 / p95 per scenario and the ratio baseline ÷ tallies.
The temporary database (and directory) is removed whatever happens. Not part of the test suite.
"""

import argparse
import os
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import TempDatabase, login, make_app, timed  # noqa: E402  (bench/ is the script directory)

PASSWORD = "bench-password-2026"
TZ = "Asia/Shanghai"
TODAY = date(2026, 11, 20)
BUDGET_MS = 150


def run(pg_url: str | None, findings: int, runs: int) -> dict:
    import time_machine

    from webapp.results.dashboard import measures as m
    from webapp.results.dashboard import operations, tallies

    database = TempDatabase(pg_url, "bench-dashboard")
    results = {}
    try:
        with time_machine.travel("2026-11-20 02:00 +0000", tick=True):
            app, ids = make_app(database, findings, TODAY, PASSWORD)
            dialect = "PostgreSQL" if pg_url else "SQLite"
            print(f"\n{dialect}, {ids['findings']:,} findings, {runs} runs each "
                  "(ms p50 / p95; ratio = baseline p95 ÷ tallies p95)")
            client = app.test_client()
            login(client, "scale-manager", PASSWORD)
            dept, site = ids["department_ids"][1], ids["site_ids"][3]
            pages = [("page: quarter", "/results/", {}),
                     ("page: year", "/results/?period=2026", {}),
                     ("page: month + department", f"/results/?period=2026-11&department_id={dept}", {}),
                     ("page: htmx fragment, one site", f"/results/?site_id={site}", {"HX-Request": "true"})]
            serves = tallies.serves

            def use(raw: bool):
                operations.tallies.serves = (lambda _f: False) if raw else serves

            try:
                for label, path, headers in pages:
                    row = {}
                    for name, raw in (("tallies", False), ("baseline", True)):
                        use(raw)

                        def get(path=path, headers=headers):
                            r = client.get(path, headers=headers)
                            assert r.status_code == 200, (path, r.status_code)
                        row[name] = timed(get, runs)
                    results[label] = row
                    _print(label, row)
                use(False)
                from webapp.extensions import db
                from webapp.models import User
                from webapp.results.periods import period_containing

                with app.app_context():
                    user = db.session.get(User, ids["manager_ids"][0])
                    for kind in ("quarter", "year"):
                        period = period_containing(TODAY, kind)
                        f = m.Filters(user)
                        same = build(f, period, tallies) == build(f, period, m)
                        row = {"tallies": timed(lambda p=period, f=f: build(f, p, tallies), runs),
                               "baseline": timed(lambda p=period, f=f: build(f, p, m), runs)}
                        label = f"build_dashboard, {kind} (same figures: {'yes' if same else 'NO'})"
                        results[label] = row
                        _print(label, row)
                        assert same, "the tallies disagree with the raw rows"
                    db.session.remove()
            finally:
                use(False)
    finally:
        database.close()
    return results


def build(filters, period, source):
    from webapp.results.dashboard.operations import build_dashboard

    return build_dashboard(filters, period, TODAY, TZ, source=source)


def _print(label, row):
    t, b = row["tallies"], row["baseline"]
    flag = "" if t[1] <= BUDGET_MS else "  <-- over budget"
    print(f"  {label:52s} tallies {t[0]:7.1f} / {t[1]:7.1f}   baseline {b[0]:7.1f} / {b[1]:7.1f}   "
          f"×{b[1] / t[1]:5.1f}{flag}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", help="PostgreSQL URL of a server where a temporary database may be created")
    ap.add_argument("--findings", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    print(f"load average: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} on {os.cpu_count()} cores")
    worst = 0.0
    for n in a.findings:
        for row in run(a.pg, n, a.runs).values():
            worst = max(worst, row["tallies"][1])
    print(f"worst tallies p95: {worst:.1f} ms (budget {BUDGET_MS} ms); load average after: {os.getloadavg()[0]:.1f}")
    sys.exit(0 if worst <= BUDGET_MS else 1)


if __name__ == "__main__":
    main()
