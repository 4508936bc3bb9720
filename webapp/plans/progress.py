"""Plan progress: visits planned, done and overdue — per plan and per supervisor. It feeds the
supervisors' "plan completion rate" KPI. Pure functions over anything with the Visit attributes,
and their SQL twins for counting a chain plan's tens of thousands of visits in the database
(`progress_columns`; tests/plans/test_progress.py checks both count alike)."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func


@dataclass
class Progress:
    planned: int = 0
    done: int = 0
    overdue: int = 0

    @property
    def open(self) -> int:
        return self.planned - self.done

    @property
    def completion_rate(self) -> float | None:
        """Share of planned visits completed, 0..1; None when nothing was planned."""
        return self.done / self.planned if self.planned else None

    def __iadd__(self, other: "Progress") -> "Progress":
        self.planned, self.done, self.overdue = (self.planned + other.planned, self.done + other.done,
                                                 self.overdue + other.overdue)
        return self

    def add(self, visit, today: date) -> None:
        self.planned += 1
        if visit.status == "completed":
            self.done += 1
        elif is_overdue(visit, today):
            self.overdue += 1


def is_overdue(visit, today: date) -> bool:
    """Not completed and its last day (due_by, else scheduled_for) is before today."""
    if visit.status == "completed":
        return False
    last = visit.due_by or visit.scheduled_for
    return last is not None and last < today


def last_day(visit):
    """A visit's last day in SQL, for the `visit` model: due_by, else scheduled_for (NULL: none)."""
    return func.coalesce(visit.due_by, visit.scheduled_for)


def overdue_clause(visit, today: date):
    """The SQL twin of is_overdue, for the `visit` model (webapp.visits.models.Visit): not completed
    and its last day before today (NULL, never true, when it has no day)."""
    return and_(visit.status != "completed", last_day(visit) < today)


def progress_columns(visit, today: date) -> tuple:
    """Columns that count the visits a query selects (its live ones: deleted_at IS NULL is the
    query's) as a Progress — (planned, done, overdue), read as `Progress(*columns)` — so a query of
    visits may be grouped by plan, by supervisor, and counted in the database."""
    return (func.count(), func.count(case((visit.status == "completed", 1))),
            func.count(case((overdue_clause(visit, today), 1))))


def _live(visits):
    return [v for v in visits if getattr(v, "deleted_at", None) is None]


def plan_progress(visits, today: date) -> Progress:
    result = Progress()
    for v in _live(visits):
        result.add(v, today)
    return result


def progress_by_supervisor(visits, today: date) -> dict[str, Progress]:
    result: dict[str, Progress] = {}
    for v in _live(visits):
        result.setdefault(v.supervisor_id, Progress()).add(v, today)
    return result
