"""Use cases of visits on the desk. They flush and never commit."""

from flask_babel import gettext as _
from sqlalchemy import select

from webapp.audit.operations import record_audit
from webapp.auth.models import User
from webapp.authz import can
from webapp.extensions import db
from webapp.visits.models import Visit


class NotAllowed(Exception):
    """The user may not do this (HTTP 403)."""


class ReassignError(Exception):
    """A reassignment that cannot be made as asked; the message says why, in the user's language."""


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
