"""The phone scope: what a manager's or department head's phone pulls when it starts from nothing —
reference data, open work and a recent period — instead of everything ever recorded
(docs/sync-protocol.md, "Phone scope"). It narrows what the authorization module lets the user see;
it never widens it, and an older record is fetched on demand (GET /api/v1/sync/records).

The window, at the time of the pull (`RECENT_DAYS` back from now):
- a visit that is not completed (scheduled, in progress), or completed within the period (by its
  `completed_at`, else its `scheduled_for`), and everything recorded in it;
- a finding that is not closed, or whose visit is in the window, and its rectification updates;
- reference data (departments, sites, people, templates).

A record enters the window by a change of its own (it gets a new place in the feed) or because its
parent did: a completed visit reopened, a closed finding reopened. For those the records inside get
a new place in the feed too (`entered`, called from scope_moves.follow_owners), so a phone whose
first pull left them out receives them with its next pull.
"""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm.attributes import get_history

from webapp.findings.models import Finding
from webapp.rectification.models import RectificationUpdate
from webapp.sync_store.entities import ENTITIES
from webapp.sync_store.models import Change
from webapp.visits.models import Visit

RECENT_DAYS = 90  # the recent period a phone pulls in full
WINDOW_ROLES = ("manager", "admin", "dept_head")  # a supervisor's or staff's whole scope is small


def cutoff(now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(days=RECENT_DAYS)


def visit_in_window(status: str | None, completed_at: datetime | None, scheduled_for: date | None,
                    since: datetime) -> bool:
    """The window's rule for one visit (the SQL clause below says the same)."""
    if status != "completed":
        return True
    if completed_at is not None:
        if completed_at.tzinfo is None:
            completed_at = completed_at.replace(tzinfo=UTC)
        return completed_at >= since
    return scheduled_for is not None and scheduled_for >= since.date()


def visit_window(since: datetime):
    return or_(Visit.status != "completed", Visit.completed_at >= since,
               and_(Visit.completed_at.is_(None), Visit.scheduled_for >= since.date()))


def finding_window(since: datetime):
    return or_(Finding.status != "closed", Finding.visit_id.in_(select(Visit.id).where(visit_window(since))))


def window_clause(user, now: datetime | None = None):
    """WHERE clause on the change feed: the rows a fresh phone of `user` pulls, or None when the
    user's whole scope goes to the phone. A kind of record not named here is left out (its
    changes after the first pull still arrive)."""
    if getattr(user, "role", None) not in WINDOW_ROLES:
        return None
    since = cutoff(now)
    visits = select(Visit.id).where(visit_window(since))
    findings = select(Finding.id).where(finding_window(since))
    parts = [Change.entity.in_(sorted(name for name, spec in ENTITIES.items() if spec.reference))]
    for name, spec in ENTITIES.items():
        model = spec.model
        if spec.reference:
            continue
        if model is Visit:
            ids = visits
        elif model is Finding:
            ids = findings
        elif model is RectificationUpdate:
            ids = select(model.id).where(model.finding_id.in_(findings))
        elif hasattr(model, "visit_id"):
            ids = select(model.id).where(model.visit_id.in_(visits))
        else:
            continue
        parts.append(and_(Change.entity == name, Change.record_id.in_(ids)))
    return and_(Change.deleted.is_(False), or_(false(), *parts)) if parts else true()


def _old(obj, name):
    hist = get_history(obj, name)
    if hist.has_changes():
        return hist.deleted[0] if hist.deleted else None
    return getattr(obj, name)


def entered(obj) -> str | None:
    """'visit' or 'finding' when this changed record brings the records inside it into the window
    (a completed visit reopened or moved into the period, a closed finding reopened), else None."""
    if isinstance(obj, Visit):
        since = cutoff()
        was = visit_in_window(_old(obj, "status"), _old(obj, "completed_at"), _old(obj, "scheduled_for"), since)
        now = visit_in_window(obj.status, obj.completed_at, obj.scheduled_for, since)
        return "visit" if now and not was else None
    if isinstance(obj, Finding):
        return "finding" if _old(obj, "status") == "closed" and obj.status != "closed" else None
    return None
