"""The one way a workflow status changes: only legal moves from the transition table, each audited."""

from collections.abc import Callable

from webapp.audit.operations import record_audit


def move_status(obj, to: str, transitions: dict, *, user, entity: str, illegal: Callable[[], Exception],
                data: dict | None = None) -> str:
    """Set `obj.status` to `to` if `transitions` allows it from the current status, else raise
    `illegal()`. Writes `<entity>.<to>` to the audit log and returns the status it left."""
    if to not in transitions.get(obj.status, ()):
        raise illegal()
    before = obj.status
    obj.status = to
    record_audit(user, f"{entity}.{to}", entity, obj.id, {"from": before, "to": to, **(data or {})})
    return before


def require_confirmed(obj, *, illegal: Callable[[], Exception]) -> None:
    """The review rule (docs/review.md#the-review-step): work on a finding's rectification — a plan,
    progress from the desk or from a phone — starts only once management has confirmed the finding.
    Pending, rejected and merged findings raise `illegal()`."""
    if getattr(obj, "review_status", None) != "confirmed":
        raise illegal()
