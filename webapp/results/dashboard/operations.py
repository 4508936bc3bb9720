"""The decision dashboard's content: the measures for a period and its predecessor, compared.
Read-only; every figure comes from measures.py and carries what its drill-down link needs."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from webapp.checklists.models import AREAS, TemplateItem
from webapp.extensions import db
from webapp.findings.models import SEVERITIES
from webapp.org.models import Department, Site
from webapp.org.operations import live_choices
from webapp.results.dashboard import measures as m
from webapp.results.dashboard import tallies
from webapp.results.periods import Period, recent_periods

TREND_MONTHS = 12
WORSE_DRIVERS = 3
OPEN_PER_DEPARTMENT = 5
SITES_SHOWN = 20  # a chain has thousands of sites; the chart and table show those with the most findings


class DashboardError(ValueError):
    pass


@dataclass
class Worse:
    department_id: str
    now: m.Counts
    before: m.Counts
    drivers: list = field(default_factory=list)  # (item_id, area, now, before), biggest increase first
    open_items: list = field(default_factory=list)  # (Finding, Rectification | None)
    overdue: int = 0

    @property
    def delta(self) -> int:
        return self.now.total - self.before.total


def build_dashboard(filters: m.Filters, period: Period, today: date, tz, source=None) -> dict:
    """source: where the figures come from — the tallies kept with the writes (the default when they
    can answer) or measures.py, the raw rows (what the tests and the benchmark compare them with)."""
    if period.start > today:
        raise DashboardError("future")
    src = source or (tallies if tallies.serves(filters) else m)
    cur, prev = m.windows_for(period, today)
    windows = [("now", cur), ("before", prev)]
    counts = src.finding_counts_by_window(filters, windows, tz)
    totals = {w: counts.get((w,), m.Counts()) for w, _win in windows}
    both = src.rectification_rates_by_window(filters, windows, tz, today)
    rates = {w: both.get((w,), m.Rates()) for w, _win in windows}
    plans = {w: src.plan_completion(filters, win, today)[()] for w, win in (("now", cur), ("before", prev))}
    overdue = src.overdue_rectifications(filters, tz, today)[()]

    by = {}
    for dim in ("department", "area", "site"):
        both = src.finding_counts_by_window(filters, windows, tz, by=(dim,))
        by[dim] = {w: {k[1]: v for k, v in both.items() if k[0] == w} for w, _win in windows}
    top_sites = sorted(set(by["site"]["now"]) | set(by["site"]["before"]),
                       key=lambda s: (-by["site"]["now"].get(s, m.Counts()).total,
                                      -by["site"]["before"].get(s, m.Counts()).total, s or ""))
    severity = {k[0]: v.total for k, v in src.finding_counts(filters, cur, tz, by=("severity",)).items()}
    months = m.month_windows(cur, TREND_MONTHS)
    by_month = {k[0]: v for k, v in src.finding_counts_by_window(filters, months, tz).items()}
    trend = [(code, win, by_month.get(code, m.Counts())) for code, win in months]

    worse = _worse_departments(src, filters, cur, prev, tz, today, by["department"])
    repeats = src.repeat_pairs(filters, cur, tz)
    return {
        "window": cur, "previous": prev, "period": period, "totals": totals, "rates": rates, "plans": plans,
        "overdue": overdue, "by": by, "severity": severity, "trend": trend, "worse": worse, "repeats": repeats,
        "top_sites": top_sites[:SITES_SHOWN], "sites_with_findings": len(top_sites),
    }


def _worse_departments(src, filters, cur, prev, tz, today, by_dept) -> list[Worse]:
    """Departments with more findings, or more high/critical ones, than in the previous window."""
    worse = []
    for dept_id in set(by_dept["now"]) | set(by_dept["before"]):
        now, before = by_dept["now"].get(dept_id, m.Counts()), by_dept["before"].get(dept_id, m.Counts())
        if dept_id and (now.total > before.total or now.severe > before.severe):
            worse.append(Worse(dept_id, now, before))
    worse.sort(key=lambda w: (-(w.now.severe - w.before.severe), -w.delta, w.department_id))
    if not worse:
        return worse
    ids = [w.department_id for w in worse]
    both = src.finding_counts_by_window(filters, [("now", cur), ("before", prev)], tz, by=("department", "item", "area"))
    items = {w: {k[1:]: v for k, v in both.items() if k[0] == w} for w in ("now", "before")}
    overdue = {k[0]: v for k, v in src.overdue_rectifications(filters, tz, today, by=("department",)).items()}
    open_rows = src.open_rectifications(filters, cur, tz, ids, OPEN_PER_DEPARTMENT)
    for w in worse:
        drivers = []
        for (dept, item, area), counts in items["now"].items():
            if dept != w.department_id:
                continue
            before = items["before"].get((dept, item, area), m.Counts()).total
            if counts.total > before:
                drivers.append((item, area, counts.total, before))
        drivers.sort(key=lambda d: (-(d[2] - d[3]), -d[2], d[1] or "", d[0] or ""))
        w.drivers = drivers[:WORSE_DRIVERS]
        w.open_items = [row for row in open_rows if row[0].department_id == w.department_id][:OPEN_PER_DEPARTMENT]
        w.overdue = overdue.get(w.department_id, 0)
    return worse


def period_options(today: date, chosen: Period) -> dict[str, list[Period]]:
    """The periods offered by the selector (newest first), plus the chosen one if older."""
    options = {kind: list(reversed(recent_periods(today, kind, count)))
               for kind, count in (("quarter", 6), ("month", 12), ("year", 3))}
    if chosen not in options[chosen.kind]:
        options[chosen.kind].append(chosen)
    return options


def reference() -> dict:
    return {
        "departments": live_choices(Department),
        "sites": live_choices(Site),
        "items": {i.id: i for i in db.session.scalars(select(TemplateItem))},
        "areas": AREAS,
        "severities": SEVERITIES,
    }
