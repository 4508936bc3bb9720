"""Benchmark: the supervisors' ranking (督导人员管理, /results/supervisors/) at chain scale — every
supervisor's scorecard for a period and the one before, at 1M findings.

    .venv/bin/python bench/supervisors_ranking.py [--findings 1000000]          # SQLite (temp file)
    .venv/bin/python bench/supervisors_ranking.py --pg URL [--findings N]       # PostgreSQL (a temporary database)
    .venv/bin/python bench/supervisors_ranking.py --database URL                # a database seeded earlier, kept

Seeds the company of `flask seed-scale` (or uses one seeded earlier), then times the page through the
app as the manager for a quarter, a month and a year, and, in the same run, the baseline: the same
scorecards computed as the page computed them before — `scorecard_for`, one supervisor and one
period at a time, loading each one's records — for the quarter. The two give the same figures (the
run checks it, as tests/results/supervisors/test_operations.py does on a small company). Not part of
the test suite.
"""

import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import manager_client, scale_main, time_pages  # noqa: E402  (bench/ is the script directory)

PASSWORD = "bench-password-2026"
TODAY = date(2026, 11, 20)


def _run(database, n, runs) -> int:
    runs = max(3, runs // 20)  # a page takes seconds
    from sqlalchemy import select

    from webapp.auth.models import User
    from webapp.extensions import db
    from webapp.results.periods import parse_period
    from webapp.results.supervisors import operations as ops

    app, client, seeded = manager_client(database, n, TODAY, PASSWORD, "per period", runs)
    time_pages(client, [(f"the ranking, {label}", "/results/supervisors/" + query, {})
                        for label, query in (("quarter (2026-Q4)", ""), ("month (2026-11)", "?period=2026-11"),
                                             ("year (2026)", "?period=2026"))], runs, 31)
    with app.app_context():
        manager = db.session.scalar(select(User).where(User.username == "scale-manager"))
        ids = [u.id for u in ops.supervisors()]
        quarter = parse_period("2026-Q4")
        t = time.perf_counter()
        now = {p: ops.scorecards_for(manager, ids, p, TODAY) for p in (quarter, quarter.previous())}
        batch = time.perf_counter() - t
        t = time.perf_counter()
        before = {p: {sid: ops.scorecard_for(manager, sid, p, TODAY) for sid in ids} for p in (quarter, quarter.previous())}
        one_by_one = time.perf_counter() - t
        same = all(now[p][sid].figures() == before[p][sid].figures() for p in now for sid in ids)
        db.session.rollback()
    print(f"the quarter's and the previous quarter's {len(ids)} scorecards: counted by supervisor {batch * 1000:.0f} ms; "
          f"one supervisor at a time, as before, {one_by_one * 1000:.0f} ms -> {one_by_one / batch:.0f}x; "
          f"the same figures: {'yes' if same else 'NO'}")
    return 0 if same else 1


def main():
    scale_main(__doc__, "bench-ranking", _run)


if __name__ == "__main__":
    main()
