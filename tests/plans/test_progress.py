from datetime import date
from types import SimpleNamespace as V

from webapp.plans.progress import is_overdue, plan_progress, progress_by_supervisor

TODAY = date(2026, 6, 15)


def visit(status, sup="a", due=None, day=None, deleted=None):
    return V(status=status, supervisor_id=sup, due_by=due, scheduled_for=day, deleted_at=deleted)


def test_done_open_and_overdue():
    visits = [
        visit("completed", due=date(2026, 6, 1)),           # done (even though past due)
        visit("scheduled", due=date(2026, 6, 14)),          # overdue: due yesterday
        visit("in_progress", due=date(2026, 6, 15)),        # due today: not overdue
        visit("scheduled", day=date(2026, 6, 10)),          # no due_by: scheduled day counts
        visit("scheduled"),                                 # no dates: never overdue
        visit("completed", deleted=date(2026, 6, 2)),       # deleted: not counted
    ]
    p = plan_progress(visits, TODAY)
    assert (p.planned, p.done, p.overdue, p.open) == (5, 1, 2, 4)
    assert p.completion_rate == 0.2


def test_nothing_planned_has_no_rate():
    p = plan_progress([], TODAY)
    assert (p.planned, p.done, p.overdue, p.completion_rate) == (0, 0, 0, None)


def test_per_supervisor():
    visits = [visit("completed", "a"), visit("scheduled", "a", due=date(2026, 1, 1)),
              visit("completed", "b"), visit("completed", "b")]
    by = progress_by_supervisor(visits, TODAY)
    assert {k: (p.planned, p.done, p.overdue) for k, p in by.items()} == {"a": (2, 1, 1), "b": (2, 2, 0)}
    assert by["a"].completion_rate == 0.5 and by["b"].completion_rate == 1.0


def test_due_by_wins_over_scheduled_day():
    assert not is_overdue(visit("scheduled", due=date(2026, 6, 20), day=date(2026, 6, 1)), TODAY)
    assert not is_overdue(visit("completed", due=date(2026, 1, 1)), TODAY)


def test_the_database_counts_as_the_functions_do(world):
    """progress_columns (the plans' pages count a chain plan's visits in the database) against
    plan_progress and progress_by_supervisor over the same records: every status, due_by before,
    on and after today or none, a scheduled day or none, deleted or not."""
    import itertools
    import random

    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import Visit
    from webapp.plans.progress import Progress, progress_columns

    rng, today, v = random.Random(20), date(2026, 11, 20), world["visits"][0]
    days = (None, date(2026, 11, 19), today, date(2026, 11, 21))
    sups = [world["users"]["sup1"].id, world["users"]["sup2"].id]
    made = []
    for status, due, day, deleted in itertools.product(("scheduled", "in_progress", "completed"), days, days, (False, True)):
        for _ in range(rng.randint(1, 2)):
            made.append(Visit(site_id=v.site_id, department_id=v.department_id, template_id=v.template_id,
                              supervisor_id=rng.choice(sups), status=status, due_by=due, scheduled_for=day,
                              plan_id=None, deleted_at=v.created_at if deleted else None, summary="progress-case"))
    db.session.add_all(made)
    db.session.commit()
    rows = db.session.execute(select(Visit.supervisor_id, *progress_columns(Visit, today)).where(
        Visit.summary == "progress-case", Visit.deleted_at.is_(None)).group_by(Visit.supervisor_id)).all()
    counted = {sup: Progress(*figures) for sup, *figures in rows}
    assert counted == progress_by_supervisor(made, today)
    whole = Progress()
    for p in counted.values():
        whole += p
    assert whole == plan_progress(made, today) and whole.overdue > 0 and whole.done > 0
