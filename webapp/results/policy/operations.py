"""Policy optimisation log (制度优化): suggested rule and process changes, where they came from, who
owns them and how far they got. Operations flush, never commit.

Who: managers and admins manage everything (edit, owner, status); supervisors propose and may edit
their own proposal while it is still "proposed"; department heads read; staff have no access.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from webapp.audit.operations import record_audit
from webapp.auth.models import User
from webapp.authz import EVERYTHING, can_see
from webapp.core.workflow import move_status
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.results.errors import ResultsError
from webapp.results.models import Evaluation, PolicySuggestion
from webapp.results.models import Warning as EarlyWarning

STATUSES = ("proposed", "under_review", "adopted", "rejected", "implemented")
TRANSITIONS = {
    "proposed": ("under_review", "rejected"),
    "under_review": ("adopted", "rejected"),
    "adopted": ("implemented",),
    "rejected": (),
    "implemented": (),
}
SOURCE_TYPES = ("evaluation", "warning", "finding")
SOURCE_MODELS = {"evaluation": Evaluation, "warning": EarlyWarning, "finding": Finding}
PROPOSERS = (*EVERYTHING, "supervisor")
READERS = (*EVERYTHING, "supervisor", "dept_head")


class PolicyError(ResultsError):
    pass


def can_read(user) -> bool:
    return user.role in READERS


def can_propose(user) -> bool:
    return user.role in PROPOSERS


def can_manage(user) -> bool:
    return user.role in EVERYTHING


def can_edit(user, suggestion: PolicySuggestion) -> bool:
    return can_manage(user) or (user.role == "supervisor" and suggestion.author_id == user.id
                                and suggestion.status == "proposed")


def allowed_transitions(user, suggestion: PolicySuggestion) -> tuple[str, ...]:
    return TRANSITIONS.get(suggestion.status, ()) if can_manage(user) else ()


def source_record(user, source_type: str | None, source_id: str | None):
    """The source record if the user may see it, else None."""
    model = SOURCE_MODELS.get(source_type or "")
    if model is None or not source_id:
        return None
    record = db.session.get(model, source_id)
    if record is None or getattr(record, "deleted_at", None) is not None or not can_see(model, source_id, user):
        return None
    return record


def prefill(user, source_type: str | None, source_id: str | None) -> dict:
    """Form values for a new suggestion made from a source: title and body taken from it."""
    record = source_record(user, source_type, source_id)
    if record is None:
        return {}
    values = {"source_type": source_type, "source_id": str(record.id)}
    if source_type == "evaluation":
        values["title"] = _("Improvement from a summary evaluation")
        values["body"] = record.suggestions or record.lessons or ""
    elif source_type == "finding":
        values["title"] = _("Prevent: %(title)s", title=record.title)[:200]
        values["body"] = "\n".join(x for x in (record.description, record.impact) if x)
    elif source_type == "warning":
        values["title"] = _("Respond to an early warning")
        values["body"] = record.message or ""
    return values


def _check(user, data: dict) -> dict:
    fields = {}
    source_type, source_id = data.get("source_type"), data.get("source_id")
    if bool(source_type) != bool(source_id):
        fields["source_id"] = [_("Give both the kind of source and the record, or neither.")]
    elif source_type and source_record(user, source_type, source_id) is None:
        fields["source_id"] = [_("This source does not exist or you cannot see it.")]
    owner_id = data.get("owner_id")
    if owner_id:
        owner = db.session.get(User, owner_id)
        if owner is None or not owner.active:
            fields["owner_id"] = [_("Choose an active user.")]
    if fields:
        raise PolicyError(_("Some fields are not valid."), fields)
    return data


def create_suggestion(user, data: dict) -> PolicySuggestion:
    """Propose a change. `data`: title, body, source_type (evaluation | warning | finding) + source_id,
    owner_id (managers only: a supervisor's proposal gets its owner when it is reviewed)."""
    if not can_propose(user):
        raise PolicyError(_("You cannot propose policy changes."), status=403)
    _check(user, data)
    suggestion = PolicySuggestion(
        title=data["title"].strip(), body=(data.get("body") or "").strip() or None,
        source_type=data.get("source_type") or None, source_id=data.get("source_id") or None,
        owner_id=data.get("owner_id") if can_manage(user) else None, author_id=user.id, status="proposed")
    db.session.add(suggestion)
    db.session.flush()
    record_audit(user, "policy_suggestion.proposed", "policy_suggestion", suggestion.id,
                 {"to": "proposed", "source_type": suggestion.source_type, "source_id": suggestion.source_id})
    return suggestion


def update_suggestion(user, suggestion: PolicySuggestion, data: dict) -> PolicySuggestion:
    if not can_edit(user, suggestion):
        raise PolicyError(_("Only management, or its author while it is proposed, can change this suggestion."),
                          status=403)
    _check(user, data)
    before = {"title": suggestion.title, "owner_id": suggestion.owner_id}
    suggestion.title = data["title"].strip()
    suggestion.body = (data.get("body") or "").strip() or None
    suggestion.source_type = data.get("source_type") or None
    suggestion.source_id = data.get("source_id") or None
    if can_manage(user):
        suggestion.owner_id = data.get("owner_id") or None
    db.session.flush()
    record_audit(user, "policy_suggestion.updated", "policy_suggestion", suggestion.id,
                 {"before": before, "owner_id": suggestion.owner_id})
    return suggestion


def transition_suggestion(user, suggestion: PolicySuggestion, to: str, comment: str | None = None) -> str:
    """Move along proposed → under_review → adopted | rejected, adopted → implemented (management)."""
    if not can_manage(user):
        raise PolicyError(_("Only management can change the status of a suggestion."), status=403)
    if to == "rejected" and not (comment or "").strip():
        raise PolicyError(_("Say why the suggestion is not adopted."),
                          {"comment": [_("Say why the suggestion is not adopted.")]})
    return move_status(suggestion, to, TRANSITIONS, user=user, entity="policy_suggestion",
                       illegal=lambda: PolicyError(_("This status change is not allowed.")),
                       data={"comment": (comment or "").strip() or None})


def owners() -> list[User]:
    """Who can own a suggestion: active managers, admins and supervisors."""
    return db.session.scalars(select(User).where(User.active.is_(True), User.role.in_(PROPOSERS))
                              .order_by(User.display_name)).all()
