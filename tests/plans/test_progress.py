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
