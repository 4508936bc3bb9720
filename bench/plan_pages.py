"""Benchmark: the plans list and a chain plan's own page (督导计划, /plans/) at chain scale, 1M findings.

    .venv/bin/python bench/plan_pages.py [--findings 1000000]          # SQLite (temp file)
    .venv/bin/python bench/plan_pages.py --pg URL [--findings N]       # PostgreSQL (a temporary database)
    .venv/bin/python bench/plan_pages.py --database URL                # a database seeded earlier, kept

The seeded chain's plan has one visit per site and week (71,429 at 1M findings). Times, as the
manager, the plans list, the plan's page (its progress, per supervisor, and its first 50 visits) and
"Load more" (the next 50), and — in the same run — the baseline: the plan's visits read as records,
with their sites and supervisors, and counted by the Python functions (what the page did before,
without drawing the rows it then listed, all of them: 12–15 s and 25 MB a page), against the
database's counts the pages read now; with a check that both count the same. Not part of the test suite.
"""

import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import manager_client, scale_main, time_pages  # noqa: E402  (bench/ is the script directory)

PASSWORD = "bench-password-2026"
TODAY = date(2026, 11, 20)


def _run(database, n, runs) -> int:
    runs = max(5, runs // 5)
    from sqlalchemy import func, select
    from sqlalchemy.orm import selectinload

    from webapp.extensions import db
    from webapp.models import Visit
    from webapp.plans.models import Plan
    from webapp.plans.progress import Progress, plan_progress, progress_by_supervisor, progress_columns

    app, client, seeded = manager_client(database, n, TODAY, PASSWORD, "a page", runs)
    with app.app_context():
        plan_id, visits = db.session.execute(select(Visit.plan_id, func.count()).where(Visit.plan_id.is_not(None))
                                             .group_by(Visit.plan_id).order_by(func.count().desc()).limit(1)).one()
        db.session.rollback()
    print(f"  (the largest plan: {visits:,} visits)")
    first = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    more = re.search(r'hx-get="(/plans/[^"]+cursor=[^"]+)"', first).group(1).replace("&amp;", "&")
    time_pages(client, [("the plans list", "/plans/", {}), ("the plan's page", f"/plans/{plan_id}", {}),
                        ("load more", more, {"HX-Request": "true"})], runs, 18)
    with app.app_context():
        now, before = [], []
        for _ in range(3):
            t = time.perf_counter()
            rows = db.session.execute(select(Visit.supervisor_id, *progress_columns(Visit, TODAY)).where(
                Visit.plan_id == plan_id, Visit.deleted_at.is_(None)).group_by(Visit.supervisor_id)).all()
            counted = {sup: Progress(*figures) for sup, *figures in rows}
            now.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            records = db.session.scalars(select(Visit).where(Visit.plan_id == plan_id, Visit.deleted_at.is_(None))
                                         .options(selectinload(Visit.site), selectinload(Visit.supervisor))).all()
            old = (plan_progress(records, TODAY), progress_by_supervisor(records, TODAY))
            before.append((time.perf_counter() - t) * 1000)
            db.session.expunge_all()
        whole = Progress()
        for p in counted.values():
            whole += p
        same = (whole, counted) == old
        print(f"  the plan's progress: now {statistics.median(now):8.1f} ms, before {statistics.median(before):8.1f} ms"
              f" -> {statistics.median(before) / statistics.median(now):.0f}x; "
              f"{whole.planned:,} planned, {whole.done:,} done, {whole.overdue:,} overdue, {len(counted)} supervisors")
        plan = db.session.get(Plan, plan_id)
        print(f"  ({plan.title}: {plan.status})")
        db.session.rollback()
    print(f"the same figures: {'yes' if same else 'NO'}")
    return 0 if same else 1


def main():
    scale_main(__doc__, "bench-plan-pages", _run)


if __name__ == "__main__":
    main()
