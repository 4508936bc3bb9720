"""Recurring visits by site class: pure functions (no database) for the cycles a rule makes, which
sites are due, how new visits are shared among supervisors, and which due sites were missed.

A rule visits a site once per cycle of `interval_months`; cycles are aligned to the calendar year
(a quarterly site's cycles are Jan–Mar, Apr–Jun, …; a half-yearly one's Jan–Jun and Jul–Dec).
Generating for a month gives each site whose cycle has no visit yet a visit due in that month."""

from dataclasses import dataclass, field
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(first: date) -> date:
    return add_months(first, 1) - timedelta(days=1)


@dataclass(frozen=True, order=True)
class Cycle:
    start: date  # first day
    end: date  # last day (inclusive)
    interval_months: int

    def contains(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end


def cycle_containing(day: date, interval_months: int) -> Cycle:
    """The cycle of a rule of `interval_months` (a divisor of 12) that contains `day`."""
    if interval_months not in (1, 2, 3, 4, 6, 12):
        raise ValueError(f"interval must divide a year: {interval_months!r}")
    index = (day.month - 1) // interval_months
    start = date(day.year, index * interval_months + 1, 1)
    return Cycle(start, add_months(start, interval_months) - timedelta(days=1), interval_months)


def cycles_ending_in(first: date, last: date, interval_months: int) -> list[Cycle]:
    """The cycles whose last day lies in [first, last] (inclusive), oldest first."""
    out, cycle = [], cycle_containing(first, interval_months)
    while cycle.start <= last:
        if first <= cycle.end <= last:
            out.append(cycle)
        cycle = cycle_containing(cycle.end + timedelta(days=1), interval_months)
    return out


def rule_for(site_class: str | None, department_chain: list[str], rules: dict) -> object | None:
    """The rule that applies to a site: its own department's, else the nearest parent department's,
    else the company's. `rules` maps (scope_key, site_class) → rule; `department_chain` is the site's
    department id followed by its ancestors', then "company"."""
    if not site_class:
        return None
    for key in department_chain:
        rule = rules.get((key, site_class))
        if rule is not None:
            return rule
    return None


@dataclass
class Proposal:
    """One visit generation would create."""

    site: object
    cycle: Cycle
    template_id: str
    supervisor_id: str | None = None
    scheduled_for: date | None = None
    due_by: date | None = None


@dataclass
class Load:
    """A supervisor's visits in the month: those they already had, and the new ones."""

    existing: int = 0
    new: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.existing + len(self.new)


def balance(proposals: list[Proposal], pools: dict[str, list[str]], existing: dict[str, int],
            order: list[str]) -> dict[str, Load]:
    """Give each proposal to the least-loaded supervisor of its pool (visits already held in the
    month count), ties broken by `order`. Filling the lightest first keeps the loads within one
    visit of each other whenever the new visits suffice to level them. `pools` maps a proposal's
    index to the supervisor ids that may take it."""
    rank = {sid: n for n, sid in enumerate(order)}
    loads = {sid: Load(existing=existing.get(sid, 0)) for sid in order}
    for n, proposal in enumerate(proposals):
        pool = [sid for sid in pools.get(n, []) if sid in loads]
        if not pool:
            continue
        chosen = min(pool, key=lambda sid: (loads[sid].total, rank[sid]))
        proposal.supervisor_id = chosen
        loads[chosen].new.append(proposal)
    return loads


def spread_days(first: date, count: int, start: date | None = None) -> list[date]:
    """`count` working days (Monday–Friday) of the month starting at `first` (from `start` on, when
    the month has begun), spread evenly to its end, so that one supervisor's visits do not all fall
    on the same day."""
    start = max(start or first, first)
    last = month_end(first)
    days = [start + timedelta(days=n) for n in range((last - start).days + 1)] or [last]
    workdays = [d for d in days if d.weekday() < 5] or days
    if count <= 0:
        return []
    return [workdays[min(len(workdays) - 1, (k * len(workdays)) // count)] for k in range(count)]
