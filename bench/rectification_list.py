"""Benchmark: the rectification list (整改跟踪, /rectification/) at chain scale, 1M findings.

    .venv/bin/python bench/rectification_list.py [--findings 1000000]          # SQLite (temp file)
    .venv/bin/python bench/rectification_list.py --pg URL [--findings N]       # PostgreSQL (a temporary database)
    .venv/bin/python bench/rectification_list.py --database URL                # a database seeded earlier, kept

Seeds the company of `flask seed-scale` (or uses one seeded earlier), then times the list through the
app as the manager — unfiltered, overdue, each status, to plan — and, in the same run, the baseline:
the rows as they were read before, one statement joining every finding to its rectification and
sorting them all, against `open_work` (two walks of an index), with a check that both give the same
rows in the same order (exact ties, left to the database before, now broken by id). Not part of the test suite.
"""

import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import manager_client, scale_main, time_pages, timed  # noqa: E402  (bench/ is the script directory)

PASSWORD = "bench-password-2026"
TODAY = date(2026, 11, 20)
FILTERS = [("unfiltered", {}), ("overdue", {"overdue": True}), ("to plan", {"status": "to_plan"}),
           ("rectifying", {"status": "rectifying"}), ("awaiting acceptance", {"status": "pending_acceptance"}),
           ("accepted", {"status": "accepted"})]


def _in_order(rows):
    """The rows' sort keys in order, and the rows but those tying with the last: the old statement
    left the order of exact ties (the same deadline and capture time, common in the seeded company)
    to the database, and so which of the rows tying at the end of the page it kept; the new one
    breaks ties by id."""
    keys = [(r.deadline if r else None, f.captured_at) for f, r in rows]
    return keys, sorted((f.id, r.id if r else None) for (f, r), k in zip(rows, keys, strict=True) if k != keys[-1])


def _run(database, n, runs) -> int:
    runs = max(5, runs // 5)
    from sqlalchemy import select

    from tests.rectification.old_list import joined_and_sorted
    from webapp.auth.models import User
    from webapp.extensions import db
    from webapp.rectification import operations as ops

    app, client, seeded = manager_client(database, n, TODAY, PASSWORD, "a view", runs)
    query = {"unfiltered": "", "overdue": "?overdue=1", "to plan": "?status=to_plan", "rectifying": "?status=rectifying",
             "awaiting acceptance": "?status=pending_acceptance", "accepted": "?status=accepted"}
    time_pages(client, [(f"the list, {label}", "/rectification/" + query[label], {}) for label, _args in FILTERS],
               runs, 30)
    # "Load more" (htmx): the next 50 rows, up to ten pages deep into the unfiltered list and the list
    # to plan (fewer where the list is shorter); each page again as it was the first time, with a next one or not.
    for label, q in (("unfiltered", ""), ("to plan", "status=to_plan")):
        pages, url = [], "/rectification/?" + q
        for _ in range(11):
            html = client.get(url, headers={"HX-Request": "true"} if "cursor" in url else {}).get_data(as_text=True)
            if "cursor" in url:
                pages.append((url, "load-more-row" in html))
            nxt = re.search(r'hx-get="(/rectification/\?[^"]+)"', html)
            if nxt is None:
                break
            url = nxt.group(1).replace("&amp;", "&")
        if not pages:
            print(f"  load more, {label:19s} (one page only)")
            continue

        def more(pages=pages):
            for u, has_next in pages:
                r = client.get(u, headers={"HX-Request": "true"})
                assert r.status_code == 200 and ("load-more-row" in r.get_data(as_text=True)) == has_next, r.status_code
        p50, p95, mx, cpu95 = (t / len(pages) for t in timed(more, max(2, runs // 5), warm_up=False))
        print(f"  load more, {label:19s} {p50:8.1f} / {p95:8.1f} / {mx:8.1f} / {cpu95:8.1f}"
              f"  (a page, the mean of pages 2-{len(pages) + 1})")
    same = True
    with app.app_context():
        manager = db.session.scalar(select(User).where(User.username == "scale-manager"))
        for label, args in FILTERS:
            now, before = [], []
            for _ in range(3):
                t = time.perf_counter()
                rows, _next = ops.open_work(manager, args, TODAY)
                now.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                old = joined_and_sorted(manager, args, TODAY)
                before.append((time.perf_counter() - t) * 1000)
            same &= _in_order(rows) == _in_order(old)
            print(f"  the rows, {label:20s} now {statistics.median(now):8.1f} ms, before {statistics.median(before):8.1f} ms"
                  f" -> {statistics.median(before) / statistics.median(now):.0f}x")
        db.session.rollback()
    print(f"the same rows in the same order (ties aside): {'yes' if same else 'NO'}")
    return 0 if same else 1


def main():
    scale_main(__doc__, "bench-rect-list", _run)


if __name__ == "__main__":
    main()
