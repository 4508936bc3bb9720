"""Benchmark: the review queue with a backlog at chain scale (budget: p95 < 50 ms a page, as the
findings list's, at 1M findings).

    .venv/bin/python bench/review_queue.py [--findings 1000000]          # SQLite (temp file)
    .venv/bin/python bench/review_queue.py --pg URL [--findings N]       # PostgreSQL (a temporary database)
    .venv/bin/python bench/review_queue.py --database URL                # a database seeded earlier, kept

Seeds the company of `flask seed-scale` (or uses one seeded earlier, `--database`), then gives it a
backlog: the newest 5 % of the findings awaiting review (≈ 50,000 at 1M, the last seven weeks: a chain
whose managers fell behind), 0.4 % of all rejected and 0.4 % merged — the same findings every run, set
by SQL, not vacuumed (a kept database gets them back as confirmed at the end). Then, as the manager, through the app: the queue (its count
and its oldest 200), filtered by site and by supervisor, the rejected and merged views, and its poll
— unchanged (204) and changed. Prints p50/p95/max per scenario.

In the same run, the baseline: the queue's two statements as they were before migration 0126 — the
exact count and the oldest 200, through the one-column index of every finding's review status, each
match read from the table — timed against the statements the app sends now (the count no further
than 1,001, the oldest 50, on the index of the findings not confirmed). The old index is made inside
a transaction that is rolled back, with the new one dropped in it. Not part of the test suite.
"""

import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import TempDatabase, login, make_app, p95, scale_main, timed  # noqa: E402  (bench/ is the script directory)

PASSWORD = "bench-password-2026"
TODAY = date(2026, 11, 20)
# A backlog as one forms: the newest 5 % of the findings (≈ the last seven weeks at 1M) await review;
# decisions of the past, spread over the years by the id's first two hex digits: 1 in 256 rejected,
# 1 in 256 merged.
BACKLOG = {"pending": "captured_at >= (SELECT captured_at FROM findings ORDER BY captured_at DESC LIMIT 1 "
                      "OFFSET :newest)",
           "rejected": "substr(id, 1, 2) = 'f0'", "merged": "substr(id, 1, 2) = 'f1'"}
# The queue's statements, as the app sends them now (the count no further than 1,001, the first page
# of 50, both on the index of the findings not confirmed) and as before 0126 (the exact count, the
# first 200, on the one-column index of every finding's review status).
NOW = {"count": "SELECT count(*) FROM (SELECT id FROM findings WHERE review_status <> 'confirmed' AND deleted_at IS NULL "
                "AND review_status = 'pending' LIMIT 1001) AS awaiting",
       "first page": "SELECT id FROM findings WHERE review_status <> 'confirmed' AND deleted_at IS NULL "
                     "AND review_status = 'pending' ORDER BY captured_at, id LIMIT 51"}
BEFORE = {"count": "SELECT count(*) FROM findings WHERE deleted_at IS NULL AND review_status = 'pending'",
          "first page": "SELECT id FROM findings WHERE deleted_at IS NULL AND review_status = 'pending' "
                        "ORDER BY captured_at, id LIMIT 200"}


def set_backlog(db, findings: int, undo: bool = False) -> dict:
    """The backlog (BACKLOG), or every finding confirmed again (`undo`, as seed-scale made them).
    Statistics are brought up to date (ANALYZE); the table is not vacuumed: the rows just written are
    read as a live system reads its newest rows, before autovacuum has marked their pages."""
    from sqlalchemy import text

    if undo:
        db.session.execute(text("UPDATE findings SET review_status = 'confirmed' WHERE review_status <> 'confirmed'"))
    else:
        for status, where in BACKLOG.items():
            db.session.execute(text(f"UPDATE findings SET review_status = :s WHERE deleted_at IS NULL AND {where}"),
                               {"s": status, "newest": findings // 20})
    db.session.execute(text("ANALYZE findings"))
    db.session.commit()
    rows = db.session.execute(text("SELECT review_status, count(*) FROM findings WHERE deleted_at IS NULL "
                                   "GROUP BY review_status")).all()
    db.session.rollback()
    return dict(rows)


def sql_timings(db, runs: int) -> dict:
    """{statement: (ms now, ms before)}: the queue's statements as now and as before 0126, in one
    transaction that makes the old index, drops the new one for the baseline's statements and is
    rolled back."""
    from sqlalchemy import text

    conn = db.session.connection()

    def timings(statements):
        out = {}
        for name, stmt in statements.items():
            conn.execute(text(stmt)).all()  # warm
            out[name] = []
            for _ in range(runs):
                t = time.perf_counter()
                conn.execute(text(stmt)).all()
                out[name].append((time.perf_counter() - t) * 1000)
        return out

    now = timings(NOW)
    conn.execute(text("CREATE INDEX ix_findings_review_status ON findings (review_status)"))
    conn.execute(text("DROP INDEX ix_findings_review_queue"))
    conn.execute(text("ANALYZE findings"))
    before = timings(BEFORE)
    db.session.rollback()
    return {name: (now[name], before[name]) for name in NOW}


def _run(database, n, runs) -> int:
    kept = not isinstance(database, TempDatabase)  # a company seeded earlier gets its findings back
    from webapp.extensions import db

    app, seeded = make_app(database, n, TODAY, PASSWORD)
    with app.app_context():
        t = time.perf_counter()
        statuses = set_backlog(db, seeded["findings"])
        print(f"backlog set in {time.perf_counter() - t:.0f} s: {statuses}", flush=True)
    try:
        client = app.test_client()
        login(client, "scale-manager", PASSWORD)
        rnd = random.Random(7)
        sites = rnd.sample(seeded["site_ids"], min(20, len(seeded["site_ids"])))
        sups = rnd.sample(seeded["supervisor_ids"], min(10, len(seeded["supervisor_ids"])))
        from webapp.findings.review import COUNT_CAP

        awaiting = statuses.get("pending", 0)
        shown = min(awaiting, COUNT_CAP + 1)  # what the page shows and its poll compares: counted so far
        scenarios = [
            ("queue: count + oldest 50", ["/findings/review"], 200),
            ("queue, a site's", [f"/findings/review?site_id={s}" for s in sites], 200),
            ("queue, a supervisor's", [f"/findings/review?supervisor_id={s}" for s in sups], 200),
            ("queue, a month", ["/findings/review?date_from=2026-03-01&date_to=2026-03-31"], 200),
            ("queue, rejected / merged", ["/findings/review?review=rejected", "/findings/review?review=merged"], 200),
            ("poll, unchanged (204)", [f"/findings/review/awaiting?last={shown}&shown={shown}"], 204),
            ("poll, changed", [f"/findings/review/awaiting?last=0&shown={shown}"], 200),
        ]
        dialect = "PostgreSQL" if database.url.startswith("postgresql") else "SQLite"
        print(f"\n{dialect}, {seeded['findings']:,} findings, {awaiting:,} awaiting review, {runs} requests per "
              f"scenario (ms: wall p50 / wall p95 / wall max / app CPU p95)")
        worst = 0.0
        for name, urls, status in scenarios:
            turn = iter(urls * (runs + 10))

            headers = {"HX-Request": "true"} if name.startswith("poll") else {}

            def one(status=status, turn=turn, headers=headers):
                url = next(turn)
                r = client.get(url, headers=headers)
                assert r.status_code == status, (url, r.status_code)

            for _ in range(3):
                one()  # warm up
            p50, p95_, mx, cpu95 = timed(one, runs, warm_up=False)
            worst = max(worst, p95_)
            flag = "" if p95_ < 50 else "  <-- over budget"
            print(f"  {name:28s} {p50:6.1f} / {p95_:6.1f} / {mx:6.1f} / {cpu95:6.1f}{flag}")
        with app.app_context():
            for name, (now, before) in sql_timings(db, max(10, runs // 4)).items():
                print(f"the queue's {name}, SQL alone, p50 / p95: now {statistics.median(now):.2f} / {p95(now):.2f} ms; "
                      f"before 0126 {statistics.median(before):.1f} / {p95(before):.1f} ms "
                      f"-> {statistics.median(before) / statistics.median(now):.0f}x faster")
        print(f"worst p95: {worst:.1f} ms (budget 50 ms)")
        return 0 if worst < 50 else 1
    finally:
        if kept:
            with app.app_context():
                set_backlog(db, seeded["findings"], undo=True)


def main():
    scale_main(__doc__, "bench-review", _run)


if __name__ == "__main__":
    main()
