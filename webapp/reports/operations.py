"""督导报告: prefilled from the visit, edited by the supervisor, approved by a manager, communicated to
the department and acknowledged by its head. Approved reports are locked; a change makes a new version."""

import hashlib
import secrets
from collections import Counter
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.audit.operations import record_audit
from webapp.auth.models import User
from webapp.core.models import utcnow
from webapp.core.workflow import move_status
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.findings.operations import NotAllowed, WorkflowError
from webapp.i18n import term
from webapp.notifications.operations import department_heads, managers, notify
from webapp.reports.models import REPORT_TRANSITIONS, CommunicationNote, Report, ShareLink
from webapp.reports.snapshots import report_findings
from webapp.visits.models import ChecklistAnswer, Visit
from webapp.visits.scoring import score_by_area

EDITABLE = ("title", "plan_execution", "highlights", "problems", "analysis", "recommendations")


def _link(report) -> str:
    return f"/reports/{report.id}"


def can_write(user, visit: Visit) -> bool:
    return user.role in ("manager", "admin") or (user.role == "supervisor" and visit.supervisor_id == user.id)


def latest_report(visit_id) -> Report | None:
    return db.session.scalar(select(Report).where(Report.visit_id == visit_id)
                             .order_by(Report.version_no.desc()).limit(1))


def _problem_line(n: int, f: Finding) -> str:
    """"1. title (severity): description", punctuated by the catalog (full-width in Chinese)."""
    if f.description:
        return _("%(n)d. %(title)s (%(severity)s): %(description)s", n=n, title=f.title,
                 severity=term("severity", f.severity), description=f.description)
    return _("%(n)d. %(title)s (%(severity)s)", n=n, title=f.title, severity=term("severity", f.severity))


def prefill(visit: Visit) -> dict:
    """The draft's text from what the visit recorded (in the writer's language)."""
    answers = db.session.scalars(select(ChecklistAnswer).where(ChecklistAnswer.visit_id == visit.id)).all()
    scores = score_by_area(visit.template.items, answers)
    findings = report_findings(visit.id)
    site = visit.site.name
    day = (visit.started_at.date() if visit.started_at else visit.scheduled_for)
    execution = [_("Visit to %(site)s on %(date)s, supervisor %(name)s.", site=site, date=day.isoformat() if day else "—",
                   name=visit.supervisor.display_name)]
    if visit.plan is not None:
        execution.append(_("Carried out under the plan “%(plan)s”.", plan=visit.plan.title))
    checked = sum(1 for a in answers if a.result in ("pass", "fail"))
    failed = sum(1 for a in answers if a.result == "fail")
    execution.append(_("%(n)d checklist items checked, %(f)d failed.", n=checked, f=failed))
    good = [str(term("area", a)) for a, v in scores.items() if a != "overall" and v is not None and v >= 90]
    highlights = _("Areas meeting the standard: %(areas)s.", areas="、".join(good)) if good else ""
    problems = "\n".join(_problem_line(i, f) for i, f in enumerate(findings, 1))
    by_area = Counter(term("area", f.area) for f in findings)
    analysis = "\n".join(_("%(area)s: %(n)d problems", area=a, n=n) for a, n in by_area.most_common())
    return {"title": _("Supervision report: %(site)s, %(date)s", site=site, date=day.isoformat() if day else ""),
            "plan_execution": "\n".join(execution), "highlights": highlights, "problems": problems,
            "analysis": analysis, "recommendations": "", "area_scores": scores}


def create_report(visit: Visit, user) -> Report:
    if not can_write(user, visit):
        raise NotAllowed(_("Only the visit's supervisor or a manager writes its report."))
    if latest_report(visit.id) is not None:
        raise WorkflowError(_("This visit already has a report."))
    report = Report(visit_id=visit.id, version_no=1, status="draft", author_id=user.id, **prefill(visit))
    db.session.add(report)
    db.session.flush()
    record_audit(user, "report.create", "report", report.id, {"visit_id": visit.id})
    return report


def update_report(report: Report, user, fields: dict) -> None:
    if not can_write(user, report.visit):
        raise NotAllowed(_("Only the visit's supervisor or a manager edits its report."))
    if report.status not in ("draft", "returned"):
        raise WorkflowError(_("This report is locked. Make a new version to change it."))
    for name in EDITABLE:
        if name in fields and fields[name] is not None:
            setattr(report, name, fields[name])
    if fields.get("refresh_scores"):
        report.area_scores = prefill(report.visit)["area_scores"]
    db.session.flush()


def _transition(report: Report, to: str, user, data: dict | None = None) -> None:
    move_status(report, to, REPORT_TRANSITIONS, user=user, entity="report",
                data={"version": report.version_no, **(data or {})},
                illegal=lambda: WorkflowError(
                    _("A report cannot go from “%(a)s” to “%(b)s”.", a=term("report_status", report.status), b=term("report_status", to))))


def submit_report(report: Report, user) -> None:
    if not can_write(user, report.visit):
        raise NotAllowed(_("Only the visit's supervisor or a manager submits its report."))
    _transition(report, "submitted", user)
    report.submitted_at = utcnow()
    notify(managers(), "report_to_approve", report.title, _link(report))


def review_report(report: Report, user, decision: str, comment: str | None = None) -> None:
    if user.role not in ("manager", "admin"):
        raise NotAllowed(_("Only management approves reports."))
    if decision == "return" and not (comment or "").strip():
        raise WorkflowError(_("Say what should change when returning a report."))
    to = "approved" if decision == "approve" else "returned"
    _transition(report, to, user, {"comment": comment})
    report.reviewer_id = user.id
    report.review_comment = (comment or "").strip() or None
    if to == "approved":
        from webapp.reports.snapshots import freeze_report

        report.approved_at = utcnow()
        freeze_report(report, user)
    author = db.session.get(User, report.author_id)
    notify([author], "report_approved" if to == "approved" else "report_returned", report.title, _link(report))
    if to == "approved":
        from webapp.outbox.events import raise_event, report_data

        raise_event("report.approved", {"report": report_data(report)})


def communicate_report(report: Report, user) -> None:
    """Send the approved report to the department: its heads acknowledge it and plan each open finding."""
    if not can_write(user, report.visit):
        raise NotAllowed(_("Only the visit's supervisor or a manager communicates its report."))
    _transition(report, "communicated", user)
    report.communicated_at = utcnow()
    heads = department_heads(report.visit.department_id)
    notify(heads, "report_to_acknowledge", report.title, _link(report))
    for f in report_findings(report.visit_id):
        if f.status == "open" and f.review_status == "confirmed":  # rectification starts once confirmed
            notify(department_heads(f.department_id) or heads, "plan_to_submit", f.title, f"/rectification/{f.id}")


def acknowledge_report(report: Report, user) -> None:
    if not (user.role == "dept_head" and user.department_id == report.visit.department_id):
        raise NotAllowed(_("Only the head of the department acknowledges its report."))
    _transition(report, "acknowledged", user)
    report.acknowledged_by = user.id
    report.acknowledged_at = utcnow()


def new_version(report: Report, user) -> Report:
    """A locked report is changed by drafting a new version that supersedes it."""
    if not can_write(user, report.visit):
        raise NotAllowed(_("Only the visit's supervisor or a manager edits its report."))
    if not report.locked:
        raise WorkflowError(_("Only an approved report needs a new version; edit this one."))
    latest = latest_report(report.visit_id)
    if latest.id != report.id:
        raise WorkflowError(_("A newer version of this report exists."))
    fields = {name: getattr(report, name) for name in EDITABLE}
    # The problems list and the scores are drawn from the visit again: a finding corrected since the
    # last approval reads the same in the text as in its badge (docs/review.md#the-frozen-report).
    fresh = prefill(report.visit)
    fields["problems"] = fresh["problems"]
    new = Report(visit_id=report.visit_id, version_no=report.version_no + 1, status="draft", author_id=user.id,
                 supersedes_id=report.id, area_scores=fresh["area_scores"], **fields)
    db.session.add(new)
    db.session.flush()
    record_audit(user, "report.new_version", "report", new.id, {"supersedes": report.id, "version": new.version_no})
    return new


def add_communication_note(visit: Visit, user, held_on, attendees: list[str], causes, solutions) -> CommunicationNote:
    if not can_write(user, visit):
        raise NotAllowed(_("Only the visit's supervisor or a manager records the communication."))
    note = CommunicationNote(visit_id=visit.id, held_on=held_on, author_id=user.id, causes=causes,
                             solutions=solutions, attendees=sorted({a.strip() for a in attendees if a.strip()}))
    db.session.add(note)
    db.session.flush()
    record_audit(user, "report.communication_note", "visit", visit.id, {"note_id": note.id})
    return note


def share_day_choices() -> list[int]:
    """The lifetimes offered when a link is made: common ones up to SHARE_LINK_MAX_DAYS, and the default."""
    cfg = current_app.config
    return sorted({d for d in (1, 7, 30, 90, 180, 365) if d <= cfg["SHARE_LINK_MAX_DAYS"]}
                  | {cfg["SHARE_LINK_DEFAULT_DAYS"]})


def create_share_link(report: Report, user, expires_in_days: int | None = None) -> str:
    """Returns the token once; only its hash is stored. The link stops working after `expires_in_days`
    (SHARE_LINK_DEFAULT_DAYS when not given)."""
    days = expires_in_days or current_app.config["SHARE_LINK_DEFAULT_DAYS"]
    if not can_write(user, report.visit):
        raise NotAllowed(_("Only the visit's supervisor or a manager shares its report."))
    if not report.locked:
        raise WorkflowError(_("Only an approved report can be shared."))
    token = secrets.token_urlsafe(24)
    link = ShareLink(report_id=report.id, token_hash=hashlib.sha256(token.encode()).hexdigest(), created_by=user.id,
                     expires_at=utcnow() + timedelta(days=days))
    db.session.add(link)
    db.session.flush()
    record_audit(user, "report.share", "report", report.id, {"share_link_id": link.id, "days": days})
    return token


def revoke_share_link(link: ShareLink, user) -> None:
    report = db.session.get(Report, link.report_id)
    if not can_write(user, report.visit):
        raise NotAllowed(_("Only the visit's supervisor or a manager revokes a share link."))
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        record_audit(user, "report.share_revoked", "report", report.id, {"share_link_id": link.id})


def report_by_token(token: str) -> Report | None:
    h = hashlib.sha256(token.encode()).hexdigest()
    link = db.session.scalar(select(ShareLink).where(ShareLink.token_hash == h, ShareLink.revoked_at.is_(None),
                                                     ShareLink.expires_at > utcnow()))
    return db.session.get(Report, link.report_id) if link else None


def reports_awaiting(user) -> int:
    if user.role not in ("manager", "admin"):
        return 0
    return db.session.scalar(select(func.count()).select_from(Report).where(Report.status == "submitted")) or 0
