"""Use cases of visits on the desk. They flush and never commit."""

from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.audit.operations import record_audit
from webapp.auth.models import User
from webapp.authz import can, scoped
from webapp.checklists.models import ChecklistTemplate
from webapp.core import keyset
from webapp.core.workflow import move_status
from webapp.extensions import db
from webapp.visits.completion import CompletionError, answered_item_ids, check_completion
from webapp.visits.models import VISIT_TRANSITIONS, Visit


class NotAllowed(Exception):
    """The user may not do this (HTTP 403)."""


class VisitError(Exception):
    """A change to a visit that cannot be made as asked; the message says why, in the user's language."""


class ReassignError(VisitError):
    """A reassignment that cannot be made as asked."""


def active_supervisors() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == "supervisor", User.active.is_(True))
                                   .order_by(User.display_name)))


def reassign_visit(visit: Visit, supervisor_id: str, user) -> None:
    """Give a visit to another supervisor. The visit and everything inside it leave the old
    supervisor's scope at once (their phone drops them at its next pull) and reach the new one's."""
    if not can(user, "visit.reassign", visit):
        raise NotAllowed()
    if visit.status == "completed":
        raise ReassignError(_("A completed visit cannot be reassigned."))
    supervisor = db.session.get(User, supervisor_id)
    if supervisor is None or supervisor.role != "supervisor" or not supervisor.active:
        raise ReassignError(_("Choose an active supervisor."))
    if supervisor.id == visit.supervisor_id:
        return
    old = visit.supervisor_id
    visit.supervisor_id = supervisor.id
    record_audit(user, "visit.reassign", "visit", visit.id, {"from": old, "to": supervisor.id})
    db.session.flush()


def complete_visit(visit: Visit, user, reason: str | None = None) -> None:
    """Complete a visit on the desk, under the same rule as a phone's push (webapp/visits/completion.py):
    unanswered items need a reason when the template says so. The reason is kept only when items
    were left unanswered."""
    if not can(user, "visit.complete", visit):
        raise NotAllowed()
    reason = (reason or "").strip() or None
    template = db.session.get(ChecklistTemplate, visit.template_id)
    try:
        missing = check_completion(template, answered_item_ids(db.session, visit), reason)
    except CompletionError as e:
        raise VisitError(str(e)) from None
    move_status(visit, "completed", VISIT_TRANSITIONS, user=user, entity="visit",
                illegal=lambda: VisitError(_("This visit is completed already.")),
                data={"unanswered": missing})
    visit.completed_at = datetime.now(UTC)
    visit.completion_reason = reason if missing else None
    db.session.flush()


VISITS_PAGE = 50


def visits_page(user, cursor: str | None, limit: int | None = None):
    """A page of the visits list: the user's live visits, the latest day first, then the latest
    created, those without a day last; after `cursor` (the last row of the page before). Returns
    (visits, the next page's cursor or None)."""
    q = scoped(Visit, user).where(Visit.deleted_at.is_(None)).options(
        selectinload(Visit.site), selectinload(Visit.supervisor))
    latest = ((Visit.created_at, True), (Visit.id, True))
    return keyset.page([
        keyset.Walk("s", q.where(Visit.scheduled_for.is_not(None)), ((Visit.scheduled_for, True), *latest),
                    ("date", "moment", "id")),
        keyset.Walk("n", q.where(Visit.scheduled_for.is_(None)), latest, ("moment", "id")),
    ], cursor, limit or VISITS_PAGE)
