"""Locale selection and the domain's terms in both languages.

Locale: the user's own setting, else the one chosen in this session, else the browser's
Accept-Language, else Simplified Chinese.
"""

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

SUPPORTED = ("zh_CN", "en")


def select_locale() -> str:
    if not has_request_context():  # CLI jobs and operations run from tests
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    user = current_user if current_user and current_user.is_authenticated else None
    if user is not None and getattr(user, "locale", None) in SUPPORTED:
        return user.locale
    chosen = session.get("locale")
    if chosen in SUPPORTED:
        return chosen
    best = request.accept_languages.best_match(["zh_CN", "zh", "zh-CN", "en"])
    if best is None:
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return "en" if best == "en" else "zh_CN"


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def current_locale_code() -> str:
    loc = get_locale()
    return "en" if loc is None or loc.language == "en" else "zh_CN"


# The domain's words (domain.md), one table for UI, exports and messages.
TERMS = {
    "role": {
        "admin": _l("Administrator"),
        "manager": _l("Management"),
        "supervisor": _l("Supervisor"),
        "dept_head": _l("Department head"),
        "staff": _l("Staff"),
    },
    "area": {
        "process": _l("Business process compliance"),
        "service": _l("Service quality"),
        "efficiency": _l("Work efficiency"),
        "risk": _l("Risk management"),
        "teamwork": _l("Teamwork"),
    },
    "severity": {
        "low": _l("Low"),
        "medium": _l("Medium"),
        "high": _l("High"),
        "critical": _l("Critical"),
    },
    "finding_status": {
        "open": _l("Awaiting rectification"),
        "rectifying": _l("Rectifying"),
        "pending_acceptance": _l("Awaiting acceptance"),
        "closed": _l("Closed"),
    },
    # The manager's review of a synced finding (webapp/findings/review.py).
    "review_status": {
        "pending": _l("Awaiting review"),
        "confirmed": _l("Confirmed"),
        "rejected": _l("Rejected: not a problem"),
        "merged": _l("Merged"),
    },
    "review_action": {
        "confirm": _l("Confirmed"),
        "reject": _l("Rejected: not a problem"),
        "correct": _l("Corrected"),
        "merge": _l("Merged into another finding"),
        "merged_in": _l("Another finding merged into this one"),
    },
    "rectification_status": {
        "planned": _l("Rectification planned"),
        "rectifying": _l("Rectifying"),
        "pending_acceptance": _l("Awaiting acceptance"),
        "accepted": _l("Accepted"),
    },
    "visit_status": {
        "scheduled": _l("Scheduled"),
        "in_progress": _l("In progress"),
        "completed": _l("Completed"),
    },
    "plan_status": {
        "draft": _l("Draft"),
        "submitted": _l("Submitted"),
        "returned": _l("Returned"),
        "approved": _l("Approved"),
        "published": _l("Published"),
        "closed": _l("Closed"),
    },
    "report_status": {
        "draft": _l("Draft"),
        "submitted": _l("Submitted"),
        "returned": _l("Returned"),
        "approved": _l("Approved"),
        "communicated": _l("Communicated"),
        "acknowledged": _l("Acknowledged"),
    },
    "period_type": {
        "annual": _l("Annual"),
        "quarterly": _l("Quarterly"),
        "monthly": _l("Monthly"),
    },
    "result": {"pass": _l("Pass"), "fail": _l("Fail"), "na": _l("N/A")},
    # How a checklist item is answered (docs/checklists.md).
    "answer_type": {"pass_fail": _l("Pass / fail / n.a."), "scale": _l("Score on a scale"),
                    "choice": _l("Multiple choice"), "number": _l("Measured number")},
    # 制度优化: policy suggestions and where they came from.
    "policy_status": {
        "proposed": _l("Proposed"),
        "under_review": _l("Under review"),
        "adopted": _l("Adopted"),
        "rejected": _l("Not adopted"),
        "implemented": _l("Implemented"),
    },
    "policy_source": {
        "evaluation": _l("Summary evaluation"),
        "warning": _l("Early warning"),
        "finding": _l("Problem"),
    },
    "metric_kind": {
        "business": _l("Business figures"),
        "financial": _l("Financial figures"),
        "customer": _l("Customer feedback"),
    },
    # Wire names of synced records and their fields (conflicts desk, revision history).
    "entity": {
        "visit": _l("Visit"),
        "meeting": _l("Opening meeting"),
        "checklist_answer": _l("Checklist answer"),
        "metric": _l("Figure"),
        "interview": _l("Staff interview"),
        "finding": _l("Problem"),
        "rectification_update": _l("Rectification progress"),
    },
    "field": {
        "deleted": _l("Deleted"),
        "title": _l("Title"),
        "description": _l("Manifestation"),
        "impact": _l("Impact scope"),
        "area": _l("Content area"),
        "item_id": _l("Checklist item"),
        "severity": _l("Severity"),
        "department_id": _l("Responsible department"),
        "responsible_person": _l("Responsible person"),
        "photos": _l("Photos"),
        "markup": _l("Photo markup"),
        "opening_signature": _l("Signature at the opening meeting"),
        "closing_signature": _l("Signature at the closing meeting"),
        "status": _l("Status"),
        "captured_at": _l("Recorded at"),
        "lat": _l("Latitude"),
        "lng": _l("Longitude"),
        "result": _l("Result"),
        "score": _l("Score"),
        "choice": _l("Option chosen"),
        "note": _l("Note"),
        "notes": _l("Notes"),
        "attendees": _l("Attendees"),
        "held_at": _l("Held at"),
        "department_report": _l("Department's report"),
        "kind": _l("Kind"),
        "name": _l("Name"),
        "value": _l("Value"),
        "unit": _l("Unit"),
        "interviewee": _l("Interviewee"),
        "position": _l("Position"),
        "suggestions": _l("Suggestions"),
        "interviewed_at": _l("Interviewed at"),
        "progress": _l("Progress"),
        "summary": _l("Summary"),
        "preparation_notes": _l("Preparation notes"),
        "preparation_done": _l("Preparation checklist"),
        "scheduled_for": _l("Scheduled for"),
        "due_by": _l("Due by"),
        "started_at": _l("Started at"),
        "completed_at": _l("Completed at"),
        "site_id": _l("Site"),
        "supervisor_id": _l("Supervisor"),
        "visit_id": _l("Visit"),
        "template_id": _l("Checklist template"),
        "plan_id": _l("Plan"),
        "has_conflict": _l("Open conflict"),
        "review_status": _l("Review"),
        "review_reason": _l("Review reason"),
        "merged_into_id": _l("Merged into"),
        "reviewed_by": _l("Reviewed by"),
        "reviewed_at": _l("Reviewed at"),
    },
    # How a version of a synced record came to be (revision history).
    "revision_kind": {
        "accepted": _l("Synced from a phone"),
        "conflict": _l("Conflict"),
        "resolution": _l("Conflict resolved"),
        "server": _l("Changed on the desk"),
    },
}


def term(group: str, code: str | None) -> str:
    if code is None:
        return ""
    return str(TERMS.get(group, {}).get(code, code))
