"""Benchmark: posting the points ledger (`post_points`) for one quarter of a `flask seed-scale` company.

    .venv/bin/python bench/points_post.py [--findings 100000] [--pg URL | --database URL]

Seeds the company of `flask seed-scale` (findings over the years before its "today", 2026-11-20,
with their rectifications' histories; the database and its directory are removed whatever happens)
or uses one seeded earlier (`--database`, left in place — but its ledger is then posted), adds the
demo's point rules, then times the first posting of 2026-Q3, a re-run (nothing new: idempotence),
and the ledger page and its Excel export as the manager. Prints the figures; not part of the test
suite.
"""

import argparse
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import login, make_app, open_database  # noqa: E402  (bench/ is the script directory)

PASSWORD = "bench-password-2026"
TODAY = date(2026, 11, 20)
PERIOD = "2026-Q3"


def _run(database, findings: int) -> None:
    from sqlalchemy import func, select

    from webapp.demo.seed import POINT_RULES
    from webapp.extensions import db
    from webapp.results.models import PointEntry, PointRule
    from webapp.results.periods import parse_period
    from webapp.results.points.operations import post_points

    app, seeded = make_app(database, findings, TODAY, PASSWORD)
    with app.app_context():
        have = set(db.session.scalars(select(PointRule.code)))
        for code, rule_name, trigger, severity, points in POINT_RULES:
            if code not in have:
                db.session.add(PointRule(code=code, name=rule_name, trigger=trigger, severity=severity, points=points))
        db.session.commit()
        period = parse_period(PERIOD)
        for label in ("first posting", "re-run"):
            t0 = time.perf_counter()
            result = post_points(period)
            db.session.commit()
            print(f"{label} of {PERIOD}: {time.perf_counter() - t0:.2f} s, {result.total_added:,} entries added")
        print(f"entries in the ledger: {db.session.scalar(select(func.count()).select_from(PointEntry)):,}")
    client = app.test_client()
    login(client, "scale-manager", PASSWORD)
    for path, runs in ((f"/results/points/?period={PERIOD}", 5), (f"/results/points/export.xlsx?period={PERIOD}", 1)):
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code)
            times.append(time.perf_counter() - t0)
        print(f"GET {path}: best {min(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms ({len(r.data):,} bytes)")


def main():
    import time_machine

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--findings", type=int, default=100_000)
    ap.add_argument("--pg", help="PostgreSQL URL of a server where a temporary database may be created")
    ap.add_argument("--database", help="a database seeded earlier by flask seed-scale (SQLAlchemy URL), kept")
    a = ap.parse_args()
    database = open_database(a.database, a.pg, "bench-points")
    try:
        with time_machine.travel("2026-11-20 02:00 +0000", tick=True):
            _run(database, a.findings)
    finally:
        database.close()


if __name__ == "__main__":
    main()
