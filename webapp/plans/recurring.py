"""Recurring visits (例行巡店) by site class: the rules a manager sets, generating a month's visits
with the supervisors' load balanced, and the missed visits (应巡未巡) of a period.

Operations flush and never commit; the view (or the periodic job) commits once. The arithmetic is
in webapp/plans/recurrence.py (pure functions)."""

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.audit.operations import record_audit
from webapp.auth.models import User
from webapp.authz import can
from webapp.checklists.models import ChecklistTemplate
from webapp.core.clock import company_tz_name
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.org.models import Department, Site
from webapp.plans.models import COMPANY_SCOPE, RECURRENCE_INTERVALS, RecurrenceRule, RecurringVisit
from webapp.plans.operations import PlanError, PlanPermissionError, current_revision
from webapp.plans.recurrence import (
    Cycle,
    Proposal,
    add_months,
    balance,
    cycle_containing,
    cycles_ending_in,
    month_end,
    rule_for,
    spread_days,
)
from webapp.results.periods import Period, local_date
from webapp.visits.models import Visit

MONTHS_AHEAD = 12  # how far ahead visits may be generated


# ---- rules -------------------------------------------------------------------------------------

def _require(user) -> None:
    if not can(user, "plans.recurrence", None):
        raise PlanPermissionError(_("Only management sets visit frequencies and generates visits."))


def rules() -> list[RecurrenceRule]:
    return list(db.session.scalars(select(RecurrenceRule).outerjoin(Department, Department.id == RecurrenceRule.department_id)
                                   .order_by(Department.code.is_not(None), Department.code, RecurrenceRule.site_class)))


def save_rule(user, data: dict) -> RecurrenceRule:
    """Create or change the rule of (department or company, site class)."""
    _require(user)
    errors = {}
    department_id = data.get("department_id") or None
    if department_id is not None:
        dept = db.session.get(Department, department_id)
        if dept is None or dept.deleted_at is not None or dept.archived_at is not None:
            errors["department_id"] = [_("Choose again.")]
    template = db.session.get(ChecklistTemplate, data["template_id"])
    if template is None or template.deleted_at is not None:
        errors["template_id"] = [_("Choose a checklist template.")]
    if data["interval_months"] not in RECURRENCE_INTERVALS:
        errors["interval_months"] = [_("Choose how often.")]
    if errors:
        raise PlanError(_("Some fields are not valid."), errors, 400)
    key = department_id or COMPANY_SCOPE
    rule = db.session.scalar(select(RecurrenceRule).where(RecurrenceRule.scope_key == key,
                                                          RecurrenceRule.site_class == data["site_class"]))
    created = rule is None
    if created:
        rule = RecurrenceRule(scope_key=key, department_id=department_id, site_class=data["site_class"])
        db.session.add(rule)
    rule.interval_months = data["interval_months"]
    rule.template_id = template.id
    rule.updated_by = user.id
    db.session.flush()
    record_audit(user, "recurrence_rule.saved", "recurrence_rule", rule.id,
                 {"scope": key, "site_class": rule.site_class, "interval_months": rule.interval_months,
                  "created": created})
    return rule


def delete_rule(user, rule_id: str) -> None:
    _require(user)
    rule = db.session.get(RecurrenceRule, rule_id)
    if rule is None:
        raise PlanError(_("This rule no longer exists."), status=404)
    record_audit(user, "recurrence_rule.deleted", "recurrence_rule", rule.id,
                 {"scope": rule.scope_key, "site_class": rule.site_class})
    db.session.delete(rule)
    db.session.flush()


# ---- which rule applies to which site ------------------------------------------------------------

def _departments() -> dict[str, Department]:
    return {d.id: d for d in db.session.scalars(select(Department).where(Department.deleted_at.is_(None)))}


def _chain(department_id: str | None, departments: dict) -> list[str]:
    """The department, its parents up to the top, then the company."""
    chain, seen = [], set()
    while department_id and department_id not in seen and department_id in departments:
        seen.add(department_id)
        chain.append(department_id)
        department_id = departments[department_id].parent_id
    return [*chain, COMPANY_SCOPE]


def _within(department_id: str | None, root: str | None, departments: dict) -> bool:
    return root is None or root in _chain(department_id, departments)


@dataclass
class DueSite:
    site: Site
    rule: RecurrenceRule


def due_sites(department_id: str | None = None) -> list[DueSite]:
    """The live, unarchived sites that a rule applies to (optionally of one department and its
    sub-departments), by site code."""
    departments = _departments()
    by_key = {(r.scope_key, r.site_class): r for r in rules()}
    sites = db.session.scalars(select(Site).where(Site.deleted_at.is_(None), Site.archived_at.is_(None),
                                                  Site.site_class.is_not(None)).order_by(Site.code)).all()
    out = []
    for site in sites:
        if not _within(site.department_id, department_id, departments):
            continue
        rule = rule_for(site.site_class, _chain(site.department_id, departments), by_key)
        if rule is not None:
            out.append(DueSite(site, rule))
    return out


# ---- generating a month's visits ---------------------------------------------------------------

@dataclass
class Generation:
    month: date
    proposals: list = field(default_factory=list)  # Proposal, with the supervisor chosen
    loads: dict = field(default_factory=dict)  # supervisor id → Load
    supervisors: dict = field(default_factory=dict)  # id → User
    already: int = 0  # due sites whose cycle has a visit already
    unassigned: list = field(default_factory=list)  # proposals no supervisor could take

    @property
    def spread(self) -> int:
        """The difference between the heaviest and the lightest load (0 or 1 when balanced)."""
        totals = [load.total for load in self.loads.values()]
        return max(totals) - min(totals) if totals else 0


def _live_visits_of(site_ids: list[str], start: date, end: date):
    """(site_id, scheduled_for, completed day) of live visits scheduled in [start, end]."""
    if not site_ids:
        return []
    return db.session.execute(select(Visit.site_id, Visit.scheduled_for).where(
        Visit.site_id.in_(site_ids), Visit.deleted_at.is_(None),
        Visit.scheduled_for >= start, Visit.scheduled_for <= end)).all()


def active_supervisors() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == "supervisor", User.active.is_(True))
                                   .order_by(User.display_name, User.username)))


def check_month(month: date, today: date) -> date:
    first = month.replace(day=1)
    this_month = today.replace(day=1)
    if first < this_month:
        raise PlanError(_("Visits can be generated for this month or a later one only."),
                        {"month": [_("Choose this month or a later one.")]}, 400)
    if first > add_months(this_month, MONTHS_AHEAD):
        raise PlanError(_("Visits can be generated at most a year ahead."),
                        {"month": [_("Choose a nearer month.")]}, 400)
    return first


def plan_generation(month: date, today: date, department_id: str | None = None) -> Generation:
    """What generating `month` would create (nothing is written): one visit for each due site whose
    cycle has no live visit yet, given to the least-loaded supervisor of the site's department (its
    own supervisors, else the company's)."""
    first = check_month(month, today)
    result = Generation(month=first)
    due = due_sites(department_id)
    departments = _departments()
    # A cycle holding a visit already (any: planned, ad hoc, generated) needs no new one.
    widest = max((d.rule.interval_months for d in due), default=1)
    window = cycle_containing(first, 12 if widest > 1 else 1)
    held = {}
    for site_id, day in _live_visits_of([d.site.id for d in due], window.start, window.end):
        held.setdefault(site_id, []).append(day)
    proposals = []
    for d in due:
        cycle = cycle_containing(first, d.rule.interval_months)
        if any(cycle.contains(day) for day in held.get(d.site.id, [])):
            result.already += 1
            continue
        template = current_revision(d.rule.template)
        proposals.append(Proposal(site=d.site, cycle=cycle, template_id=template.id))
    supervisors = active_supervisors()
    result.supervisors = {u.id: u for u in supervisors}
    order = [u.id for u in supervisors]
    pools = {}
    for n, p in enumerate(proposals):
        chain = set(_chain(p.site.department_id, departments))
        own = [u.id for u in supervisors if u.department_id in chain]
        pools[n] = own or order
    last = month_end(first)
    existing = dict(db.session.execute(select(Visit.supervisor_id, func.count(Visit.id)).where(
        Visit.deleted_at.is_(None), Visit.scheduled_for >= first, Visit.scheduled_for <= last)
        .group_by(Visit.supervisor_id)).all())
    result.loads = balance(proposals, pools, existing, order)
    start = today if today > first else first
    for load in result.loads.values():
        for proposal, day in zip(load.new, spread_days(first, len(load.new), start), strict=True):
            proposal.scheduled_for, proposal.due_by = day, last
    result.proposals = [p for p in proposals if p.supervisor_id]
    result.unassigned = [p for p in proposals if not p.supervisor_id]
    return result


def generate_visits(user, month: date, today: date, department_id: str | None = None) -> Generation:
    """Create the visits `plan_generation` proposes. Running it again creates nothing new: each
    site's cycle then holds a visit (and the (site, cycle) key is unique besides)."""
    if user is not None:
        _require(user)
    result = plan_generation(month, today, department_id)
    for p in result.proposals:
        # A marker whose visit was deleted frees its cycle for a new visit.
        stale = db.session.scalar(select(RecurringVisit).where(RecurringVisit.site_id == p.site.id,
                                                               RecurringVisit.cycle_start == p.cycle.start))
        if stale is not None:
            db.session.delete(stale)
            db.session.flush()
        visit = Visit(site_id=p.site.id, department_id=p.site.department_id, template_id=p.template_id,
                      supervisor_id=p.supervisor_id, status="scheduled", scheduled_for=p.scheduled_for,
                      due_by=p.due_by, preparation_done=[])
        db.session.add(visit)
        db.session.flush()
        db.session.add(RecurringVisit(visit_id=visit.id, site_id=p.site.id, cycle_start=p.cycle.start,
                                      interval_months=p.cycle.interval_months))
    db.session.flush()
    record_audit(user, "plan.recurring_generated", "recurrence", result.month.isoformat(),
                 {"created": len(result.proposals), "already": result.already,
                  "department_id": department_id})
    return result


def generate_next_month(today: date | None = None) -> int:
    """The periodic job: next month's visits for every department (no acting user; the audit log
    names none). Returns how many visits were created."""
    tz = company_tz_name()
    today = today or local_date(utcnow(), tz)
    return len(generate_visits(None, add_months(today.replace(day=1), 1), today).proposals)


# ---- missed visits (应巡未巡) --------------------------------------------------------------------

@dataclass
class Missed:
    site: Site
    rule: RecurrenceRule
    cycle: Cycle
    open_visits: list  # the cycle's visits not completed (who had it)
    ended: bool  # the cycle is over: missed; else still due

    @property
    def supervisor_ids(self) -> list[str]:
        return sorted({v.supervisor_id for v in self.open_visits})


def missed_visits(period: Period, today: date, tz, department_id: str | None = None,
                  supervisor_id: str | None = None, include_open: bool = True) -> list[Missed]:
    """Each (site, cycle) whose cycle ends in the period, with no visit completed in the cycle:
    missed when the cycle is over, still due when it is not (`include_open`). Cycles that ended
    before the site was recorded do not count. The rules are today's: a changed frequency applies to
    past periods too. A supervisor filter
    keeps the cycles whose unfinished visits were theirs."""
    last = date.fromordinal(period.end.toordinal() - 1)
    due = due_sites(department_id)
    rows = []
    site_ids = [d.site.id for d in due]
    if not site_ids:
        return rows
    earliest = min(cycle_containing(period.start, d.rule.interval_months).start for d in due)
    visits = db.session.scalars(select(Visit).where(
        Visit.site_id.in_(site_ids), Visit.deleted_at.is_(None),
        ((Visit.scheduled_for >= earliest) & (Visit.scheduled_for <= last)) | (Visit.completed_at.is_not(None)))).all()
    by_site: dict[str, list] = {}
    for v in visits:
        by_site.setdefault(v.site_id, []).append(v)
    for d in due:
        opened = local_date(d.site.created_at, tz) if d.site.created_at else None
        for cycle in cycles_ending_in(period.start, last, d.rule.interval_months):
            if cycle.start > today or (opened is not None and cycle.end < opened):
                continue  # a cycle not begun, or over before the site was recorded, asked for nothing
            mine = by_site.get(d.site.id, [])
            done = any(v.status == "completed" and v.completed_at is not None
                       and cycle.contains(local_date(v.completed_at, tz)) for v in mine)
            if done:
                continue
            ended = cycle.end < today
            if not ended and not include_open:
                continue
            open_visits = [v for v in mine if v.status != "completed" and cycle.contains(v.scheduled_for)]
            row = Missed(d.site, d.rule, cycle, open_visits, ended)
            if supervisor_id and supervisor_id not in row.supervisor_ids:
                continue
            rows.append(row)
    rows.sort(key=lambda r: (not r.ended, r.cycle.end, r.site.code))
    return rows

