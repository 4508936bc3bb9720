"""绩效评估 — the points ledger (policy 五): rules, posting, totals and appeals.

Rules (PointRule) say what a cause is worth. `post_points(period)` turns the causes of a quarter into
ledger entries (PointEntry), one per cause and matching active rule and target. It is idempotent: an
entry is unique per (rule, cause, target) over all periods (uq_point_entries_cause), so re-running
adds only what is new, and an overdue rectification is counted once, in the first period posted.
The ledger is history: an entry keeps the points of the rule as it was when posted; a later rule
change affects only entries posted afterwards. A deleted finding's entries are voided, never removed;
so are those of a finding rejected or merged in review (docs/review.md): only confirmed findings are
causes, and a rejected finding confirmed again gets its entries back.

Causes, in the company's local time (webapp/results/periods.py):
- finding_severity: a finding captured in the period with the rule's severity;
- accepted_first_round_on_time: a rectification accepted in the period, first round and on time
  (webapp/rectification/outcomes.py);
- overdue: a rectification overdue (outcomes.is_overdue) on the period's end or today, whichever is first;
- acceptance_failed: an acceptance round decided "fail" in the period.
Targets: the finding's responsible department; for a person rule, the Person of that department whose
name is the finding's responsible person (责任人) — none when there is no such single person. Person
entries carry the department too (scope), but department totals count department entries only.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from webapp.audit.operations import record_audit
from webapp.authz import scoped
from webapp.core.clock import company_zone as company_tz
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.notifications.operations import managers, notify
from webapp.org.models import Department, Person
from webapp.rectification.models import AcceptanceRound, Rectification
from webapp.rectification.operations import overdue_clause
from webapp.rectification.outcomes import accepted_first_round_on_time, is_overdue
from webapp.results.models import PointAppeal, PointEntry, PointRule
from webapp.results.periods import Period, parse_period

TARGETS = ("department", "person")
ENTRY_STATUSES = ("active", "appealed", "voided")
APPEAL_RESULTS = ("upheld", "rejected")
# Machine notes on voided entries, shown translated (views.VOID_NOTES).
VOID_FINDING_DELETED = "finding_deleted"
VOID_APPEAL_UPHELD = "appeal_upheld"
# The review step (webapp/findings/review.py): a rejected finding is not a problem, a merged one is
# counted once, in the finding it was merged into.
VOID_FINDING_REJECTED = "finding_rejected"
VOID_FINDING_MERGED = "finding_merged"
REVIEW_VOIDS = {"rejected": VOID_FINDING_REJECTED, "merged": VOID_FINDING_MERGED}
COUNTED = ("active", "appealed")  # an appealed entry counts until the appeal is upheld


class PointsError(Exception):
    """A refused operation: `fields` for form errors, `status` 400 (bad input), 403 or 409 (state)."""

    def __init__(self, message: str, fields: dict | None = None, status: int = 400):
        super().__init__(message)
        self.message, self.fields, self.status = message, fields or {}, status


def posting_period(code: str) -> Period:
    """Points are posted per quarter (考核周期)."""
    try:
        period = parse_period(code)
    except ValueError:
        period = None
    if period is None or period.kind != "quarter":
        raise PointsError(_("Enter a quarter such as 2026-Q4."), {"period": [_("Enter a quarter such as 2026-Q4.")]})
    return period


# ---- who may do what ---------------------------------------------------------------------------

def can_manage_rules(user) -> bool:
    return user.role == "admin"


def can_see_rules(user) -> bool:
    return user.role in ("admin", "manager")


def can_post(user) -> bool:
    return user.role in ("admin", "manager")


def can_decide_appeals(user) -> bool:
    return user.role in ("admin", "manager")


def sees_all(user) -> bool:
    return user.role in ("admin", "manager")


def can_appeal(user, entry: PointEntry) -> bool:
    return (user.role == "dept_head" and user.department_id is not None
            and entry.department_id == user.department_id and entry.status == "active")


# ---- rules -------------------------------------------------------------------------------------

def _check_rule(data: dict, rule: PointRule | None) -> None:
    clash = db.session.scalar(select(PointRule.id).where(PointRule.code == data["code"]))
    if clash is not None and (rule is None or clash != rule.id):
        raise PointsError(_("A rule with this code already exists."),
                          {"code": [_("A rule with this code already exists.")]})


def create_rule(user, data: dict) -> PointRule:
    if not can_manage_rules(user):
        raise PointsError(_("Only an administrator can change the points rules."), status=403)
    _check_rule(data, None)
    rule = PointRule(**data)
    db.session.add(rule)
    db.session.flush()
    record_audit(user, "point_rule.create", "point_rule", rule.id, _rule_audit(rule))
    return rule


def update_rule(user, rule: PointRule, data: dict) -> PointRule:
    if not can_manage_rules(user):
        raise PointsError(_("Only an administrator can change the points rules."), status=403)
    _check_rule(data, rule)
    before = _rule_audit(rule)
    for key, value in data.items():
        setattr(rule, key, value)
    db.session.flush()
    record_audit(user, "point_rule.update", "point_rule", rule.id, {"before": before, "after": _rule_audit(rule)})
    return rule


def set_rule_active(user, rule: PointRule, active: bool) -> PointRule:
    if not can_manage_rules(user):
        raise PointsError(_("Only an administrator can change the points rules."), status=403)
    rule.active = active
    db.session.flush()
    record_audit(user, "point_rule.activate" if active else "point_rule.deactivate", "point_rule", rule.id)
    return rule


def _rule_audit(rule: PointRule) -> dict:
    return {"code": rule.code, "name": rule.name, "trigger": rule.trigger, "severity": rule.severity,
            "points": rule.points, "applies_to": rule.applies_to, "active": rule.active}


# ---- posting -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cause:
    trigger: str
    cause_type: str  # finding | rectification | acceptance_round
    cause_id: str
    finding: Finding
    occurred_at: datetime


@dataclass
class Posting:
    period: str
    added: Counter = field(default_factory=Counter)  # rule code → entries added
    voided: int = 0

    @property
    def total_added(self) -> int:
        return sum(self.added.values())


def _local_midnight(day: date, tz) -> datetime:
    return datetime.combine(day, time.min, tz)


def _alive(q):
    return q.where(Finding.counted())


def collect_causes(period: Period, today: date, tz) -> list[Cause]:
    """Every cause that happened in `period` (local time), whatever the rules say."""
    start, end = period.bounds(tz)
    causes: list[Cause] = []
    for f in db.session.scalars(_alive(select(Finding)).where(
            Finding.captured_at >= start, Finding.captured_at < end, Finding.department_id.is_not(None))):
        causes.append(Cause("finding_severity", "finding", f.id, f, f.captured_at))
    for rect, f in db.session.execute(_alive(select(Rectification, Finding).join(
            Finding, Finding.id == Rectification.finding_id)).where(
            Rectification.status == "accepted", Rectification.accepted_at >= start,
            Rectification.accepted_at < end, Finding.department_id.is_not(None))):
        if accepted_first_round_on_time(rect, tz):
            causes.append(Cause("accepted_first_round_on_time", "rectification", rect.id, f, rect.accepted_at))
    # Overdue at the period's end (exclusive end: a deadline on its last day is overdue from the next
    # morning) or today, whichever comes first; it is looked at as it stands now.
    check_day = min(period.end, today)
    for rect, f in db.session.execute(_alive(select(Rectification, Finding).join(
            Finding, Finding.id == Rectification.finding_id)).where(
            overdue_clause(check_day), Rectification.created_at < _local_midnight(check_day, tz),
            Finding.department_id.is_not(None))):
        if is_overdue(rect, check_day):
            causes.append(Cause("overdue", "rectification", rect.id, f,
                                _local_midnight(rect.deadline + timedelta(days=1), tz)))
    for rnd, f in db.session.execute(_alive(select(AcceptanceRound, Finding).join(
            Rectification, Rectification.id == AcceptanceRound.rectification_id).join(
            Finding, Finding.id == Rectification.finding_id)).where(
            AcceptanceRound.result == "fail", AcceptanceRound.decided_at >= start,
            AcceptanceRound.decided_at < end, Finding.department_id.is_not(None))):
        causes.append(Cause("acceptance_failed", "acceptance_round", str(rnd.id), f, rnd.decided_at))
    return causes


def _people_by_name() -> dict:
    """(department_id, name) → person id, only where the name is unambiguous in its department."""
    seen = defaultdict(list)
    for pid, dept, name in db.session.execute(select(Person.id, Person.department_id, Person.name).where(
            Person.deleted_at.is_(None), Person.department_id.is_not(None))):
        seen[(dept, name.strip())].append(pid)
    return {key: ids[0] for key, ids in seen.items() if len(ids) == 1}


def _target(rule: PointRule, finding: Finding, people: dict):
    """(target key, department id, person id), or None when the rule has no one to apply to."""
    dept = finding.department_id
    if rule.applies_to == "person":
        pid = people.get((dept, (finding.responsible_person or "").strip()))
        return (f"person:{pid}", dept, pid) if pid else None
    return (f"department:{dept}", dept, None)


def _existing_keys(cause_ids: list[str]) -> set:
    keys = set()
    for i in range(0, len(cause_ids), 500):
        chunk = cause_ids[i:i + 500]
        keys.update(db.session.execute(select(PointEntry.rule_id, PointEntry.cause_type, PointEntry.cause_id,
                                              PointEntry.target).where(PointEntry.cause_id.in_(chunk))).all())
    return keys


def void_deleted_causes() -> int:
    """Entries whose finding was deleted, rejected or merged in review are voided (kept, with a
    note), never removed."""
    entries = db.session.execute(select(PointEntry, Finding.deleted_at, Finding.review_status).join(
        Finding, Finding.id == PointEntry.finding_id).where(
        Finding.deleted_at.is_not(None) | Finding.review_status.in_(tuple(REVIEW_VOIDS)),
        PointEntry.status != "voided")).all()
    for entry, deleted_at, review_status in entries:
        entry.status = "voided"
        entry.note = VOID_FINDING_DELETED if deleted_at is not None else REVIEW_VOIDS[review_status]
    return len(entries)


def void_after_review(finding: Finding) -> int:
    """At once when a finding is rejected or merged in review: its entries stop counting."""
    note = REVIEW_VOIDS.get(finding.review_status)
    if note is None:
        return 0
    entries = db.session.scalars(select(PointEntry).where(PointEntry.finding_id == finding.id,
                                                          PointEntry.status != "voided")).all()
    for entry in entries:
        entry.status, entry.note = "voided", note
    db.session.flush()
    return len(entries)


def restore_after_review(finding: Finding) -> int:
    """A rejected finding confirmed again: the entries its rejection voided count again (appealed
    while an appeal is pending)."""
    entries = db.session.scalars(select(PointEntry).where(PointEntry.finding_id == finding.id,
                                                          PointEntry.status == "voided",
                                                          PointEntry.note == VOID_FINDING_REJECTED)).all()
    for entry in entries:
        pending = db.session.scalar(select(PointAppeal.id).where(PointAppeal.entry_id == entry.id,
                                                                 PointAppeal.status == "pending"))
        entry.status, entry.note = ("appealed" if pending else "active"), None
    db.session.flush()
    return len(entries)


def post_points(period: Period, today: date | None = None, user=None) -> Posting:
    """Post the ledger of `period` (a quarter); safe to re-run. Flushes, never commits."""
    tz = company_tz()
    today = today or datetime.now(tz).date()
    result = Posting(period.code)
    rules = db.session.scalars(select(PointRule).where(PointRule.active.is_(True))
                               .order_by(PointRule.code)).all()
    causes = collect_causes(period, today, tz) if rules else []
    existing = _existing_keys(sorted({c.cause_id for c in causes}))
    people = _people_by_name() if any(r.applies_to == "person" for r in rules) else {}
    for rule in rules:
        for cause in causes:
            if cause.trigger != rule.trigger:
                continue
            if rule.trigger == "finding_severity" and cause.finding.severity != rule.severity:
                continue
            target = _target(rule, cause.finding, people)
            if target is None:
                continue
            key = (rule.id, cause.cause_type, cause.cause_id, target[0])
            if key in existing:
                continue
            existing.add(key)
            db.session.add(PointEntry(
                rule_id=rule.id, target=target[0], department_id=target[1], person_id=target[2],
                points=rule.points, cause_type=cause.cause_type, cause_id=cause.cause_id,
                finding_id=cause.finding.id, occurred_at=cause.occurred_at, period=period.code, status="active"))
            result.added[rule.code] += 1
    result.voided = void_deleted_causes()
    db.session.flush()
    if user is not None:
        record_audit(user, "points.post", "point_period", period.code,
                     {"added": result.total_added, "voided": result.voided})
    return result


# ---- the ledger --------------------------------------------------------------------------------

def ledger_query(user, period_code: str, department_id: str | None = None):
    q = scoped(PointEntry, user).where(PointEntry.period == period_code)
    if department_id:
        q = q.where(PointEntry.department_id == department_id)
    return q


def rank(rows: list[dict], key: str = "total") -> list[dict]:
    """Highest first; ties share a rank and the next rank skips (1, 2, 2, 4)."""
    ordered = sorted(rows, key=lambda r: -r[key])
    for i, row in enumerate(ordered):
        row["rank"] = ordered[i - 1]["rank"] if i and row[key] == ordered[i - 1][key] else i + 1
    return ordered


def _sums(q, group_col):
    sub = q.where(PointEntry.status.in_(COUNTED)).subquery()
    cols = sub.c
    bonus = func.sum(case((cols.points > 0, cols.points), else_=0))
    deduction = func.sum(case((cols.points < 0, cols.points), else_=0))
    return db.session.execute(select(getattr(cols, group_col), bonus, deduction, func.count())
                              .group_by(getattr(cols, group_col))).all()


def _row(bonus, deduction, count) -> dict:
    bonus, deduction = float(bonus or 0), float(deduction or 0)
    return {"bonus": bonus, "deduction": deduction, "total": round(bonus + deduction, 2), "entries": count}


def department_totals(user, period_code: str, department_id: str | None = None) -> list[dict]:
    """Department entries (not person entries) that count, per department, ranked. Every department in
    view is listed, so one without entries ranks with 0."""
    q = ledger_query(user, period_code, department_id).where(PointEntry.person_id.is_(None))
    sums = {dept: _row(b, d, n) for dept, b, d, n in _sums(q, "department_id")}
    depts = db.session.scalars(select(Department).where(Department.deleted_at.is_(None))
                               .order_by(Department.code)).all()
    if department_id:
        depts = [d for d in depts if d.id == department_id]
    if not sees_all(user):
        depts = [d for d in depts if d.id == user.department_id]
    return rank([{"department": d, **sums.get(d.id, _row(0, 0, 0))} for d in depts])


def person_totals(user, period_code: str, department_id: str | None = None) -> list[dict]:
    q = ledger_query(user, period_code, department_id).where(PointEntry.person_id.is_not(None))
    sums = {pid: _row(b, d, n) for pid, b, d, n in _sums(q, "person_id")}
    people = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_(list(sums))))} if sums else {}
    return rank([{"person": people[pid], **row} for pid, row in sums.items() if pid in people])


def ledger_periods(today: date) -> list[str]:
    """Periods offered by the selector: the last eight quarters and any that has entries, newest first."""
    from webapp.results.periods import recent_periods

    codes = {p.code for p in recent_periods(today, "quarter", 8)}
    codes.update(db.session.scalars(select(PointEntry.period).distinct()))
    return sorted(codes, reverse=True)


# ---- appeals (申诉) ------------------------------------------------------------------------------

def _entry_link(entry: PointEntry) -> str:
    return f"/results/points/entries/{entry.id}"


def _subject(entry: PointEntry) -> str:
    what = entry.finding.title if entry.finding is not None else (entry.rule.name if entry.rule else entry.cause_type)
    return f"{what} ({entry.points:+g})"


def pending_appeal(entry: PointEntry) -> PointAppeal | None:
    return db.session.scalar(select(PointAppeal).where(PointAppeal.entry_id == entry.id,
                                                       PointAppeal.status == "pending"))


def appeal_entry(entry: PointEntry, user, reason: str) -> PointAppeal:
    """A department head appeals an active entry of their department; one pending appeal per entry."""
    if not (user.role == "dept_head" and user.department_id and entry.department_id == user.department_id):
        raise PointsError(_("Only the head of the entry's department can appeal it."), status=403)
    # Lock the entry (PostgreSQL) so two appeals of the same entry cannot both pass the check.
    db.session.execute(select(PointEntry.id).where(PointEntry.id == entry.id).with_for_update())
    db.session.refresh(entry)
    if entry.status != "active" or pending_appeal(entry) is not None:
        raise PointsError(_("Only an active entry without a pending appeal can be appealed."), status=409)
    reason = (reason or "").strip()
    if not reason:
        raise PointsError(_("Give the reason for the appeal."), {"reason": [_("Give the reason for the appeal.")]})
    appeal = PointAppeal(entry_id=entry.id, reason=reason, appellant_id=user.id, status="pending")
    db.session.add(appeal)
    entry.status = "appealed"
    db.session.flush()
    record_audit(user, "point_appeal.submit", "point_entry", entry.id, {"appeal_id": appeal.id, "reason": reason})
    notify(managers(), "points_appeal", _subject(entry), _entry_link(entry))
    return appeal


def decide_appeal(appeal: PointAppeal, user, result: str, note: str) -> PointAppeal:
    """Upheld: the entry is voided and no longer counts. Rejected: the entry is active again."""
    if not can_decide_appeals(user):
        raise PointsError(_("Only management decides appeals."), status=403)
    if appeal.status != "pending":
        raise PointsError(_("This appeal has already been decided."), status=409)
    if result not in APPEAL_RESULTS:
        raise PointsError(_("Choose upheld or rejected."), {"result": [_("Choose upheld or rejected.")]})
    note = (note or "").strip()
    if not note:
        raise PointsError(_("Give a note explaining the decision."),
                          {"decision_note": [_("Give a note explaining the decision.")]})
    entry = appeal.entry
    appeal.status, appeal.decided_by, appeal.decision_note, appeal.decided_at = result, user.id, note, utcnow()
    if entry.status == "appealed":  # an entry voided meanwhile (finding deleted) stays voided
        if result == "upheld":
            entry.status, entry.note = "voided", VOID_APPEAL_UPHELD
        else:
            entry.status = "active"
    db.session.flush()
    record_audit(user, f"point_appeal.{result}", "point_entry", entry.id, {"appeal_id": appeal.id, "note": note})
    from webapp.auth.models import User

    notify([db.session.get(User, appeal.appellant_id)], f"points_appeal_{result}", _subject(entry),
           _entry_link(entry))
    return appeal


def appeals_query(user, status: str | None = None):
    q = scoped(PointAppeal, user)
    if status:
        q = q.where(PointAppeal.status == status)
    return q.order_by(PointAppeal.status != "pending", PointAppeal.created_at.desc())
