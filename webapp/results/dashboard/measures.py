"""Decision-support measures (决策支持): every dashboard KPI as one SQL aggregate (GROUP BY), built
on the shared definitions — local-time periods (webapp/results/periods.py), rectification outcomes
(webapp/rectification/outcomes.py, SQL twins), repeat problems (repeat_of_id, webapp/findings/repeats.py)
— and parameterised by a time Window and Filters, so other features (the supervisors' scorecard,
warnings) reuse them: e.g. rectification_rates(Filters(user, supervisor_id=…), window, tz, today).

Definitions (docs/results.md says the same):
- findings: live findings captured in the window (local calendar days), in the user's scope;
- high+critical share: findings of severity high or critical ÷ findings;
- repeat problems: findings with repeat_of_id set (same site and checklist item within a year);
- on-time rectification rate (按期整改率): of the window's findings whose rectification is due (accepted,
  or its deadline in force has passed by `today`), the share accepted on or before that deadline;
- first-round acceptance rate (一次验收通过率): of the window's findings whose rectification had an
  acceptance decision (accepted, or a round failed), the share accepted on round 1;
- overdue rectifications: still rectifying past the deadline on `today`, whenever the finding was made;
- plan completion (计划完成率): visits of a plan scheduled in the window up to `today`; share completed.

Every count here is also a findings-list URL (webapp/findings/search.py filters the same sets), which
is what makes the dashboard's drill-down exact.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from webapp.authz import scope_clause
from webapp.extensions import db
from webapp.findings.models import FINDING_STATUSES, Finding
from webapp.rectification import outcomes
from webapp.rectification.models import Rectification
from webapp.results.periods import Period, local_month
from webapp.visits.models import Visit

SEVERE = ("high", "critical")


@dataclass(frozen=True)
class Window:
    """Local calendar days [start, end)."""

    start: date
    end: date

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def bounds(self, tz: tzinfo | str) -> tuple[datetime, datetime]:
        return Period(self.start, self.end, "", "").bounds(tz)


def windows_for(period: Period, today: date) -> tuple[Window, Window]:
    """The period up to today, and the previous period like for like: when the period is still
    running, the same number of days from the previous period's start (a quarter 56 days in is
    compared with the first 56 days of the last one, not with all of it)."""
    current = Window(period.start, min(period.end, today + timedelta(days=1)))
    prev = period.previous()
    if current.end < period.end:
        return current, Window(prev.start, min(prev.end, prev.start + timedelta(days=current.days)))
    return current, Window(prev.start, prev.end)


def month_windows(last: Window, count: int = 12) -> list[tuple[str, Window]]:
    """The `count` calendar months ending with the one holding last.last_day, each cut at last.end."""
    months, day = [], date(last.last_day.year, last.last_day.month, 1)
    for _ in range(count):
        nxt = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        months.insert(0, (f"{day.year}-{day.month:02d}", Window(day, min(nxt, last.end))))
        day = date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)
    return months


@dataclass(frozen=True)
class Filters:
    """Who asks (their scope applies) and what to narrow to."""

    user: Any
    department_id: str | None = None
    site_id: str | None = None
    supervisor_id: str | None = None
    area: str | None = None
    item_id: str | None = None


@dataclass
class Counts:
    total: int = 0
    severe: int = 0
    repeats: int = 0

    @property
    def severe_share(self) -> float | None:
        return self.severe / self.total if self.total else None

    @property
    def repeat_share(self) -> float | None:
        return self.repeats / self.total if self.total else None


@dataclass
class Rates:
    due: int = 0
    on_time: int = 0
    decided: int = 0
    first_round: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def first_round_rate(self) -> float | None:
        return self.first_round / self.decided if self.decided else None


@dataclass
class PlanCounts:
    planned: int = 0
    done: int = 0

    @property
    def completion_rate(self) -> float | None:
        return self.done / self.planned if self.planned else None


def _finding_dim(name: str, tz):
    if name == "month":
        return local_month(Finding.captured_at, tz)
    return {"department": Finding.department_id, "site": Finding.site_id, "area": Finding.area,
            "item": Finding.item_id, "severity": Finding.severity, "supervisor": Finding.supervisor_id}[name]


def _finding_where(filters: Filters, window: Window | None, tz) -> list:
    where = [scope_clause(Finding, filters.user), Finding.counted()]
    for name in ("department_id", "site_id", "supervisor_id", "area", "item_id"):
        if value := getattr(filters, name):
            where.append(getattr(Finding, name) == value)
    if window is not None:
        start, end = window.bounds(tz)
        where += [Finding.captured_at >= start, Finding.captured_at < end]
    return where


def _count_if(clause):
    return func.coalesce(func.sum(case((clause, 1), else_=0)), 0)


def _grouped(stmt, dims: list, make):
    """Run a grouped select whose first len(dims) columns are the key; {key tuple: make(*values)}."""
    if dims:
        stmt = stmt.group_by(*dims)
    n = len(dims)
    return {tuple(row[:n]): make(*row[n:]) for row in db.session.execute(stmt)}


def finding_counts(filters: Filters, window: Window | None, tz, by: tuple[str, ...] = ()) -> dict[tuple, Counts]:
    """Findings, high+critical and repeats, grouped by any of department, site, area, item, severity,
    supervisor, month (local). Key () without `by`."""
    dims = [_finding_dim(name, tz) for name in by]
    stmt = select(*dims, func.count(), _count_if(Finding.severity.in_(SEVERE)), func.count(Finding.repeat_of_id)) \
        .where(*_finding_where(filters, window, tz))
    result = _grouped(stmt, dims, lambda *v: Counts(*map(int, v)))
    if not by:
        result.setdefault((), Counts())
    return result


def window_ranges(windows: list[tuple[str, Window]]) -> tuple[list, list[list[date]]]:
    """The windows by start (ValueError if two overlap) and their union as [start, end) date
    ranges, adjacent windows merged — shared by the raw-row and the tally queries."""
    ordered = sorted(windows, key=lambda kw: kw[1].start)
    for (_k1, a), (_k2, b) in zip(ordered, ordered[1:], strict=False):
        if a.end > b.start:
            raise ValueError("windows overlap")
    ranges: list[list[date]] = []
    for _key, win in ordered:
        if ranges and ranges[-1][1] == win.start:
            ranges[-1][1] = win.end
        else:
            ranges.append([win.start, win.end])
    return ordered, ranges


def _window_bucket(windows: list[tuple[str, Window]], tz):
    """(a CASE giving each row its window's key, the WHERE clause "in one of the windows") for disjoint
    windows. The CASE tests the latest start first, so most rows take one comparison — far cheaper
    than a per-row date function on SQLite; adjacent windows merge into one indexed range."""
    ordered, ranges = window_ranges(windows)
    bucket = case(*[(Finding.captured_at >= win.bounds(tz)[0], key) for key, win in reversed(ordered)], else_=None)
    in_any = or_(*[and_(Finding.captured_at >= Window(start, end).bounds(tz)[0],
                        Finding.captured_at < Window(start, end).bounds(tz)[1]) for start, end in ranges])
    return bucket, in_any


def finding_counts_by_window(filters: Filters, windows: list[tuple[str, Window]], tz,
                             by: tuple[str, ...] = ()) -> dict[tuple, Counts]:
    """finding_counts for several windows in one scan: key (window key, *by)."""
    bucket, in_any = _window_bucket(windows, tz)
    dims = [bucket, *[_finding_dim(name, tz) for name in by]]
    stmt = select(*dims, func.count(), _count_if(Finding.severity.in_(SEVERE)), func.count(Finding.repeat_of_id)) \
        .where(*_finding_where(filters, None, tz), in_any)
    return _grouped(stmt, dims, lambda *v: Counts(*map(int, v)))


def _rates_select(dims, tz, today: date):
    return (select(*dims, _count_if(outcomes.is_due_clause(today)), _count_if(outcomes.accepted_on_time_clause(tz)),
                   _count_if(outcomes.acceptance_decided_clause()), _count_if(outcomes.accepted_first_round_clause()))
            .select_from(Finding).join(Rectification, Rectification.finding_id == Finding.id))


def rectification_rates_by_window(filters: Filters, windows: list[tuple[str, Window]], tz, today: date,
                                  by: tuple[str, ...] = ()) -> dict[tuple, Rates]:
    """rectification_rates for several windows in one scan: key (window key, *by)."""
    bucket, in_any = _window_bucket(windows, tz)
    dims = [bucket, *[_finding_dim(name, tz) for name in by]]
    stmt = _rates_select(dims, tz, today).where(*_finding_where(filters, None, tz), in_any)
    return _grouped(stmt, dims, lambda *v: Rates(*map(int, v)))


def rectification_rates(filters: Filters, window: Window | None, tz, today: date,
                        by: tuple[str, ...] = ()) -> dict[tuple, Rates]:
    """The on-time and first-round rates' numerators and denominators for the window's findings."""
    dims = [_finding_dim(name, tz) for name in by]
    stmt = _rates_select(dims, tz, today).where(*_finding_where(filters, window, tz))
    result = _grouped(stmt, dims, lambda *v: Rates(*map(int, v)))
    if not by:
        result.setdefault((), Rates())
    return result


def overdue_rectifications(filters: Filters, tz, today: date, window: Window | None = None,
                           by: tuple[str, ...] = ()) -> dict[tuple, int]:
    """Rectifying past the deadline on `today` (any capture date unless a window is given)."""
    dims = [_finding_dim(name, tz) for name in by]
    stmt = (select(*dims, func.count()).select_from(Finding)
            .join(Rectification, Rectification.finding_id == Finding.id)
            .where(*_finding_where(filters, window, tz), outcomes.is_overdue_clause(today)))
    result = _grouped(stmt, dims, int)
    if not by:
        result.setdefault((), 0)
    return result


def plan_completion(filters: Filters, window: Window, today: date, by: tuple[str, ...] = ()) -> dict[tuple, PlanCounts]:
    """Visits of a plan scheduled in the window, not after today: planned and completed."""
    dims = [{"department": Visit.department_id, "site": Visit.site_id, "supervisor": Visit.supervisor_id}[name]
            for name in by]
    where = [scope_clause(Visit, filters.user), Visit.deleted_at.is_(None), Visit.plan_id.is_not(None),
             Visit.scheduled_for >= window.start, Visit.scheduled_for < min(window.end, today + timedelta(days=1))]
    for name in ("department_id", "site_id", "supervisor_id"):
        if value := getattr(filters, name):
            where.append(getattr(Visit, name) == value)
    stmt = select(*dims, func.count(), _count_if(Visit.status == "completed")).where(*where)
    result = _grouped(stmt, dims, lambda *v: PlanCounts(*map(int, v)))
    if not by:
        result.setdefault((), PlanCounts())
    return result


def repeat_pairs(filters: Filters, window: Window, tz, limit: int = 10) -> list[tuple[str, str, int]]:
    """The site × checklist item pairs with the most repeat problems in the window."""
    n = func.count()
    stmt = (select(Finding.site_id, Finding.item_id, n)
            .where(*_finding_where(filters, window, tz), Finding.repeat_of_id.is_not(None), Finding.item_id.is_not(None))
            .group_by(Finding.site_id, Finding.item_id).order_by(n.desc(), Finding.site_id, Finding.item_id).limit(limit))
    return [(site, item, int(count)) for site, item, count in db.session.execute(stmt)]


def open_rectifications(filters: Filters, window: Window, tz, department_ids: list[str], limit: int = 5):
    """Who is fixing it: for each of these departments, up to `limit` of the window's findings not yet
    accepted — those with a plan by earliest deadline, then those without one, oldest first —
    (Finding, Rectification or None) pairs, department by department.

    One small query per department (a handful on a dashboard): each walks the rectifications by
    deadline and stops after `limit`, where one query over all departments sorted every open
    finding of the window (≈ 0.6 s for a year at 1M findings)."""
    # "not closed" as the list of the other statuses: three ranges of ix_findings_department_status_captured
    not_closed = Finding.status.in_([s for s in FINDING_STATUSES if s != "closed"])
    rows = []
    for dept in department_ids:
        # The department's open findings of the window first (MATERIALIZED: else PostgreSQL walks every
        # rectification ever made by deadline, hoping to meet five of them early), then their plans.
        mine = (select(Finding.id, Finding.captured_at)
                .where(*_finding_where(filters, window, tz), Finding.department_id == dept, not_closed)
                .cte("open_findings").prefix_with("MATERIALIZED"))
        order = (Rectification.deadline, Finding.captured_at, Finding.id)
        # the first few by narrow rows (id, dates), then those few whole
        first = (select(mine.c.id).join(Rectification, Rectification.finding_id == mine.c.id)
                 .order_by(Rectification.deadline, mine.c.captured_at, mine.c.id).limit(limit))
        planned = db.session.execute(
            select(Finding, Rectification).join(Rectification, Rectification.finding_id == Finding.id)
            .where(Finding.id.in_(first.scalar_subquery())).order_by(*order)).all()
        rows += planned
        if len(planned) < limit:
            first = (select(mine.c.id).where(~select(Rectification.id).where(Rectification.finding_id == mine.c.id)
                                             .exists())
                     .order_by(mine.c.captured_at, mine.c.id).limit(limit - len(planned)))
            unplanned = db.session.scalars(select(Finding).where(Finding.id.in_(first.scalar_subquery()))
                                           .order_by(Finding.captured_at, Finding.id)).all()
            rows += [(f, None) for f in unplanned]
    return rows
