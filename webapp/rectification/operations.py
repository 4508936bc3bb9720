"""The rectification loop (整改): plan → progress → submitted for acceptance → passed (closed) or
failed with a reason and a new deadline → rectifying again, as many rounds as it takes.

Who: the department head of the finding's responsible department submits plan, progress and the
request for acceptance; the finding's supervisor (or a manager) decides acceptance.
"""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.audit.operations import record_audit
from webapp.auth.models import User
from webapp.authz import can, scoped
from webapp.core.clock import company_today
from webapp.core.keyset import Walk, page
from webapp.core.models import utcnow
from webapp.core.workflow import move_status, require_confirmed
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.findings.operations import NotAllowed, WorkflowError, transition_finding
from webapp.i18n import term
from webapp.notifications.models import Notification
from webapp.notifications.operations import department_heads, managers, notify
from webapp.rectification.models import (
    RECTIFICATION_TRANSITIONS,
    AcceptanceRound,
    CoordinationNote,
    Rectification,
    RectificationUpdate,
)


def is_responsible_head(user, finding: Finding) -> bool:
    return can(user, "rectification.manage", finding)


def can_decide_acceptance(user, finding: Finding) -> bool:
    return can(user, "acceptance.decide", finding)


def _require_head(user, finding):
    if not is_responsible_head(user, finding):
        raise NotAllowed(_("Only the head of the responsible department can do this."))


def _require_confirmed(finding: Finding) -> None:
    require_confirmed(finding, illegal=lambda: WorkflowError(
        _("Rectification starts once management has confirmed the finding in review.")))


def check_progress(finding: Finding, user) -> Rectification:
    """Progress may be reported by the responsible department's head, while rectifying: on the desk
    and from a phone alike. Returns the rectification."""
    _require_head(user, finding)
    _require_confirmed(finding)
    rect = rectification_for(finding)
    if rect is None or rect.status != "rectifying":
        raise WorkflowError(_("Progress can only be reported while rectifying."))
    return rect


def record_progress_audit(user, rect: Rectification, upd: RectificationUpdate) -> None:
    record_audit(user, "rectification.progress", "rectification", rect.id,
                 {"finding_id": upd.finding_id, "progress": upd.progress, "update_id": upd.id})


def _supervisor_of(finding) -> list[User]:
    sup = db.session.get(User, finding.supervisor_id) if finding.supervisor_id else None
    return [sup] if sup is not None else managers()


def _link(finding) -> str:
    # A plain path: notifications are also made outside a request (the overdue CLI).
    return f"/rectification/{finding.id}"


def _check_deadline(deadline: date, today: date | None = None) -> None:
    if deadline < (today or company_today()):
        raise WorkflowError(_("The deadline cannot be in the past."))


def transition_rectification(rect: Rectification, to: str, user, data: dict | None = None) -> None:
    move_status(rect, to, RECTIFICATION_TRANSITIONS, user=user, entity="rectification",
                data={"finding_id": rect.finding_id, "round": rect.round, **(data or {})},
                illegal=lambda: WorkflowError(
                    _("A rectification cannot go from “%(a)s” to “%(b)s”.", a=term("rectification_status", rect.status), b=term("rectification_status", to))))


def rectification_for(finding: Finding) -> Rectification | None:
    return db.session.scalar(select(Rectification).where(Rectification.finding_id == finding.id))


def submit_plan(finding: Finding, user, measures: str, owner: str, deadline: date) -> Rectification:
    """The department's plan: measures, owner, deadline. An open finding starts rectifying; while
    rectifying the plan may be revised."""
    _require_head(user, finding)
    _require_confirmed(finding)
    _check_deadline(deadline)
    rect = rectification_for(finding)
    if rect is None:
        if finding.status != "open":
            raise WorkflowError(_("A plan can only be submitted for an open finding."))
        rect = Rectification(finding_id=finding.id, measures=measures, owner=owner, deadline=deadline,
                             status="rectifying", round=1, submitted_by=user.id)
        db.session.add(rect)
        db.session.flush()
        record_audit(user, "rectification.plan", "rectification", rect.id,
                     {"finding_id": finding.id, "deadline": deadline.isoformat(), "owner": owner})
        transition_finding(finding, "rectifying", user, {"rectification_id": rect.id})
    else:
        if rect.status != "rectifying":
            raise WorkflowError(_("The plan can only be changed while rectifying."))
        rect.measures, rect.owner, rect.deadline = measures, owner, deadline
        record_audit(user, "rectification.plan_revised", "rectification", rect.id,
                     {"finding_id": finding.id, "deadline": deadline.isoformat(), "owner": owner})
    db.session.flush()
    return rect


def add_progress(finding: Finding, user, note: str | None, progress: int, photos: list[str] | None = None,
                 update_id: str | None = None) -> RectificationUpdate:
    rect = check_progress(finding, user)
    upd = RectificationUpdate(finding_id=finding.id, note=note, progress=progress,
                              photos=sorted(set(photos or [])), author_id=user.id)
    if update_id:
        upd.id = update_id
    db.session.add(upd)
    db.session.flush()
    record_progress_audit(user, rect, upd)
    return upd


def check_submission(finding: Finding, user) -> Rectification:
    """The request for acceptance may be made by the responsible department's head, once a plan is
    in and while rectifying: on the desk and from a phone alike. Returns the rectification."""
    _require_head(user, finding)
    rect = rectification_for(finding)
    if rect is None:
        raise WorkflowError(_("Submit a rectification plan first."))
    if rect.status != "rectifying":
        raise WorkflowError(_("Only a rectification in progress can be submitted for acceptance."))
    return rect


def submit_for_acceptance(finding: Finding, user) -> Rectification:
    rect = check_submission(finding, user)
    transition_rectification(rect, "pending_acceptance", user)
    transition_finding(finding, "pending_acceptance", user, {"round": rect.round})
    notify(_supervisor_of(finding), "acceptance_to_do", finding.title, _link(finding))
    _raise("rectification.submitted", finding, rect)
    db.session.flush()
    return rect


def _raise(code: str, finding: Finding, rect: Rectification, decision: AcceptanceRound | None = None) -> None:
    """The webhook event, in this transaction (webapp/outbox/events.py)."""
    from webapp.outbox.events import finding_data, raise_event

    data = {"finding": finding_data(finding), "rectification": {
        "id": rect.id, "round": rect.round, "status": rect.status,
        "deadline": rect.deadline.isoformat() if rect.deadline else None}}
    if decision is not None:
        data["acceptance"] = {"result": decision.result, "round": decision.round, "reason": decision.reason,
                              "new_deadline": decision.new_deadline.isoformat() if decision.new_deadline else None}
    raise_event(code, data)


def decide_acceptance(finding: Finding, user, result: str, reason: str | None = None,
                      new_deadline: date | None = None, signature: dict | None = None) -> AcceptanceRound:
    """整改验收: pass closes the finding; fail needs a reason and a new deadline and starts a new round."""
    if not can_decide_acceptance(user, finding):
        raise NotAllowed(_("Only the finding's supervisor or a manager decides acceptance."))
    rect = rectification_for(finding)
    if rect is None or rect.status != "pending_acceptance":
        raise WorkflowError(_("Nothing is awaiting acceptance for this finding."))
    if result not in ("pass", "fail"):
        raise WorkflowError(_("Choose pass or fail."))
    if result == "fail":
        if not (reason or "").strip():
            raise WorkflowError(_("Give the reason the rectification failed."))
        if new_deadline is None:
            raise WorkflowError(_("Set a new deadline."))
        _check_deadline(new_deadline)
    decision = AcceptanceRound(rectification_id=rect.id, round=rect.round, result=result,
                               reason=(reason or "").strip() or None,
                               new_deadline=new_deadline if result == "fail" else None, decided_by=user.id,
                               signature=signature)  # checked by the caller's schema (markup.validate_signature)
    db.session.add(decision)
    if result == "pass":
        transition_rectification(rect, "accepted", user)
        rect.accepted_at = utcnow()
        transition_finding(finding, "closed", user, {"round": rect.round})
        notify(department_heads(finding.department_id), "acceptance_passed", finding.title, _link(finding))
        _raise("acceptance.passed", finding, rect, decision)
    else:
        transition_rectification(rect, "rectifying", user, {"reason": decision.reason,
                                                            "new_deadline": new_deadline.isoformat()})
        rect.round += 1
        rect.deadline = new_deadline
        transition_finding(finding, "rectifying", user, {"round": rect.round, "reason": decision.reason})
        notify(department_heads(finding.department_id), "acceptance_failed", finding.title, _link(finding))
        _raise("acceptance.failed", finding, rect, decision)
    db.session.flush()
    return decision


def add_coordination(finding: Finding, user, note: str, department_id: str | None) -> CoordinationNote:
    """协调解决: a note when another department must help; that department's heads are told."""
    if not (can_decide_acceptance(user, finding) or is_responsible_head(user, finding)):
        raise NotAllowed(_("Only the supervisor, a manager or the responsible department can coordinate."))
    cn = CoordinationNote(finding_id=finding.id, department_id=department_id or None, note=note, author_id=user.id)
    db.session.add(cn)
    db.session.flush()
    record_audit(user, "rectification.coordination", "finding", finding.id,
                 {"department_id": department_id, "note_id": cn.id})
    if department_id and department_id != finding.department_id:
        notify(department_heads(department_id), "coordination", finding.title, _link(finding))
    return cn


LIST_PAGE = 50  # the rectification list's rows a page; "Load more" brings the next ones


def open_work(user, args: dict, today: date, limit: int | None = None
              ) -> tuple[list[tuple[Finding, Rectification | None]], str | None]:
    """A page of the rectification list (`args`: IndexArgs, `cursor` the last row of the page before):
    the user's findings with their rectification, those with one first by deadline, then those
    without (to plan) newest first — in two walks of an index rather than one sort of every unclosed
    finding (1.5–2 s at 1M findings). Unfiltered, the list is the findings not closed; a finding is
    closed when, and only when, its rectification is accepted (accept_rectification), so the first
    walk reads only the rectifications not accepted. Returns (rows, the cursor of the next page or
    None). tests/rectification/test_list.py compares the pages with the one sorted statement it
    replaced."""
    from sqlalchemy import exists
    from sqlalchemy.orm import selectinload

    status = args.get("status")
    base = scoped(Finding, user).where(Finding.deleted_at.is_(None)).options(
        selectinload(Finding.department), selectinload(Finding.site))
    if status == "to_plan":
        base = base.where(Finding.status == "open")
    elif not status:
        base = base.where(Finding.status != "closed")
    newest_first = ((Finding.captured_at, True), (Finding.id, True))
    walks = []
    # To plan: open findings, which never have a rectification (submit_plan creates it and moves the
    # finding on; nothing moves a finding back to open) — only the second walk.
    if status != "to_plan":
        with_rect = base.join(Rectification, Rectification.finding_id == Finding.id).add_columns(Rectification)
        if args.get("overdue"):
            with_rect = with_rect.where(overdue_clause(today))
        # Unfiltered, the findings not closed: their rectification is not accepted. Ties (the same
        # deadline and capture time) by id: the order does not change on reload.
        with_rect = with_rect.where(Rectification.status == status if status else Rectification.not_accepted())
        walks.append(Walk("d", with_rect, ((Rectification.deadline, False), *newest_first), ("date", "moment", "id"),
                          lambda q: db.session.execute(q).all(),
                          lambda row: (row[1].deadline, row[0].captured_at, row[0].id)))
    if not args.get("overdue") and status in (None, "to_plan"):
        walks.append(Walk("u", base.where(~exists().where(Rectification.finding_id == Finding.id)), newest_first,
                          ("moment", "id"), lambda q: [(f, None) for f in db.session.scalars(q)],
                          lambda row: (row[0].captured_at, row[0].id)))
    return page(walks, args.get("cursor"), limit or LIST_PAGE)


def overdue_clause(today: date | None = None):
    """Rectifying past the deadline (a request awaiting acceptance is the supervisor's turn)."""
    return (Rectification.status == "rectifying") & (Rectification.deadline < (today or company_today()))


def overdue_among(finding_ids: list[str], today=None) -> set[str]:
    """Which of these findings have a rectification past its deadline (one query for a page)."""
    if not finding_ids:
        return set()
    return set(db.session.scalars(select(Rectification.finding_id).where(
        Rectification.finding_id.in_(finding_ids), overdue_clause(today))))


def notify_overdue(today: date | None = None) -> int:
    """Tell the department heads and the supervisor about each overdue item, once per day."""
    today = today or company_today()
    rows = db.session.execute(
        select(Rectification, Finding).join(Finding, Finding.id == Rectification.finding_id)
        .where(overdue_clause(today), Finding.deleted_at.is_(None))
    ).all()
    sent = 0
    for _rect, finding in rows:
        link = _link(finding)
        already = db.session.scalar(select(Notification.id).where(
            Notification.kind == "overdue", Notification.link == link,
            Notification.created_at >= utcnow().replace(hour=0, minute=0, second=0, microsecond=0)).limit(1))
        if already:
            continue
        sent += len(notify(department_heads(finding.department_id) + _supervisor_of(finding), "overdue",
                           finding.title, link))
    db.session.flush()
    return sent


def head_worklist(user, today: date | None = None, limit: int = 8) -> dict:
    """A department head's own deadlines for the home page, in the user's scope: overdue, due
    (soonest first), failed at acceptance and back to rectifying, awaiting acceptance, and open
    findings still waiting for a plan. Each list holds (finding, rectification) pairs; `counts` the
    totals."""
    today = today or company_today()
    base = (scoped(Finding, user).where(Finding.deleted_at.is_(None))
            .join(Rectification, Rectification.finding_id == Finding.id).add_columns(Rectification))
    rectifying = Rectification.status == "rectifying"
    groups = {
        "overdue": base.where(rectifying, Rectification.round == 1, Rectification.deadline < today)
        .order_by(Rectification.deadline),
        "due": base.where(rectifying, Rectification.round == 1, Rectification.deadline >= today)
        .order_by(Rectification.deadline),
        "failed": base.where(rectifying, Rectification.round > 1).order_by(Rectification.deadline),
        "awaiting": base.where(Rectification.status == "pending_acceptance").order_by(Rectification.deadline),
    }
    out = {"counts": {}}
    for key, q in groups.items():
        out[key] = db.session.execute(q.order_by(Finding.id).limit(limit)).all()
        out["counts"][key] = db.session.scalar(
            select(func.count()).select_from(q.order_by(None).subquery()))
    # only a confirmed finding awaits a plan (require_confirmed): pending review is management's turn
    to_plan = scoped(Finding, user).where(Finding.counted(), Finding.status == "open")
    out["to_plan"] = db.session.scalars(to_plan.order_by(Finding.captured_at.desc()).limit(limit)).all()
    out["counts"]["to_plan"] = db.session.scalar(select(func.count()).select_from(to_plan.subquery()))
    return out
