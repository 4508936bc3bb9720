"""The manager's review of a synced finding (docs/review.md#the-review-step): confirm it, correct a
field, reject it as not a problem (with a reason the supervisor sees), or merge it into another
finding that describes the same problem. Every act is a row in the finding's review log (who, when,
why, what changed) and its change is a new revision in the finding's history. Flushes, never commits.

Only confirmed findings count in the KPIs (`Finding.counted()`) and only they may start a
rectification (`webapp.core.workflow.require_confirmed`). A finding whose rectification has started
can still be corrected, but no longer rejected or merged.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from webapp.audit.operations import record_audit
from webapp.authz import can
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.findings.models import (
    CORRECTABLE,
    REVIEW_TRANSITIONS,
    SEVERITIES,
    Finding,
    FindingComment,
    FindingReview,
)
from webapp.findings.operations import NotAllowed, WorkflowError
from webapp.i18n import term


def _require_reviewer(user, finding) -> None:
    if not can(user, "finding.review", finding):
        raise NotAllowed(_("Only management reviews findings."))


def _reason(text: str | None, *, required: bool) -> str | None:
    text = (text or "").strip()
    if required and not text:
        raise WorkflowError(_("Give a reason."))
    return text or None


def _move(finding: Finding, to: str, user, data: dict | None = None) -> None:
    """The review status moves only along REVIEW_TRANSITIONS; audited as finding.<to>."""
    if to not in REVIEW_TRANSITIONS.get(finding.review_status, ()):
        raise WorkflowError(_("A finding’s review cannot go from “%(a)s” to “%(b)s”.",
                              a=term("review_status", finding.review_status), b=term("review_status", to)))
    finding.review_status = to
    finding.reviewed_by, finding.reviewed_at = user.id, utcnow()
    record_audit(user, f"finding.{to}", "finding", finding.id, data or {})


def _log(finding, user, action, *, changes=None, reason=None, other_id=None) -> FindingReview:
    entry = FindingReview(finding_id=finding.id, action=action, changes=changes or {}, reason=reason,
                          other_id=other_id, user_id=user.id)
    db.session.add(entry)
    return entry


def _not_started(finding: Finding) -> None:
    if finding.status != "open":
        raise WorkflowError(_("Its rectification has started: the finding can no longer be rejected or merged."))


def confirm_finding(finding: Finding, user, reason: str | None = None) -> None:
    from webapp.results.points.operations import restore_after_review

    _require_reviewer(user, finding)
    reason = _reason(reason, required=False)
    was_rejected = finding.review_status == "rejected"
    _move(finding, "confirmed", user)
    finding.review_reason = None
    _log(finding, user, "confirm", reason=reason)
    db.session.flush()
    if was_rejected:  # the points its rejection voided count again
        restore_after_review(finding)


def reject_finding(finding: Finding, user, reason: str | None) -> None:
    """Not a problem: kept (history, photos) but not counted; the supervisor sees the reason."""
    _require_reviewer(user, finding)
    reason = _reason(reason, required=True)
    _not_started(finding)
    _move(finding, "rejected", user, {"reason": reason})
    finding.review_reason = reason
    _log(finding, user, "reject", reason=reason)
    db.session.flush()
    _void_points(finding)


def correct_finding(finding: Finding, user, values: dict, reason: str | None) -> dict:
    """Correct fields (CORRECTABLE) with a reason; returns {field: [before, after]} of what changed."""
    _require_reviewer(user, finding)
    if finding.review_status == "merged":
        raise WorkflowError(_("This finding was merged into another; correct that one."))
    reason = _reason(reason, required=True)
    if "severity" in values and values["severity"] not in SEVERITIES:
        raise WorkflowError(_("Choose a severity."))
    changes = {}
    for name in CORRECTABLE:
        if name not in values:
            continue
        value = values[name]
        if isinstance(value, str):
            value = value.strip() or None
        if name == "title" and not value:
            raise WorkflowError(_("A finding needs a title."))
        before = getattr(finding, name)
        if value != before:
            changes[name] = [before, value]
            setattr(finding, name, value)
    if not changes:
        raise WorkflowError(_("Nothing was changed."))
    finding.reviewed_by, finding.reviewed_at = user.id, utcnow()
    _log(finding, user, "correct", changes=changes, reason=reason)
    record_audit(user, "finding.corrected", "finding", finding.id, {"reason": reason})
    db.session.flush()
    return changes


def merge_findings(duplicate: Finding, survivor: Finding, user, reason: str | None) -> None:
    """`duplicate` describes the same problem as `survivor`: its photos and comments move to the
    survivor, it points to the survivor and is no longer counted; both keep their history."""
    _require_reviewer(user, duplicate)
    _require_reviewer(user, survivor)
    if duplicate.id == survivor.id:
        raise WorkflowError(_("Choose another finding to merge into."))
    if survivor.review_status in ("merged", "rejected") or survivor.deleted_at is not None:
        raise WorkflowError(_("The finding it is merged into must be pending review or confirmed."))
    reason = _reason(reason, required=False)
    _not_started(duplicate)
    moved = sorted(set(duplicate.photos or []) - set(survivor.photos or []))
    _move(duplicate, "merged", user, {"into": survivor.id})
    duplicate.merged_into_id = survivor.id
    if moved:
        survivor.photos = sorted(set(survivor.photos or []) | set(moved))
    comments = db.session.scalars(select(FindingComment).where(FindingComment.finding_id == duplicate.id)).all()
    for c in comments:
        c.finding_id = survivor.id
    _log(duplicate, user, "merge", reason=reason, other_id=survivor.id,
         changes={"photos": len(moved), "comments": len(comments)})
    _log(survivor, user, "merged_in", reason=reason, other_id=duplicate.id,
         changes={"photos": len(moved), "comments": len(comments)})
    db.session.flush()
    _void_points(duplicate)  # the problem counts once: in the survivor


def _void_points(finding: Finding) -> None:
    """A rejected or merged finding's points entries stop counting at once (docs/review.md)."""
    from webapp.results.points.operations import void_after_review

    void_after_review(finding)


def review_log(finding_ids) -> list[FindingReview]:
    ids = list(finding_ids)
    if not ids:
        return []
    return list(db.session.scalars(select(FindingReview).where(FindingReview.finding_id.in_(ids))
                                   .order_by(FindingReview.created_at.desc(), FindingReview.id.desc())))


def _awaiting_review(user):
    from webapp.authz import scope_clause

    return select(Finding.id).where(scope_clause(Finding, user), Finding.in_review(),
                                    Finding.review_status == "pending")


COUNT_CAP = 1000  # the queue and the dashboard say "more than 1000" beyond: they never count further


def awaiting_review_count(user) -> int:
    """The findings in the user's scope awaiting review (shown beside the KPIs, never inside them),
    counted no further than COUNT_CAP + 1: a number above COUNT_CAP reads "more than COUNT_CAP". A
    backlog of tens of thousands is then counted at the cost of a thousand (the exact count read
    every match: ≈ 80–140 ms at 50,000 on PostgreSQL; docs/benchmarks.md, "Review queue")."""
    return _count_awaiting(user, COUNT_CAP + 1)


BADGE_CAP = 100  # the navigation's badge counts this far ("99+"): every page asks, so it never counts more


def awaiting_review_badge(user) -> int:
    """`awaiting_review_count`, counted no further than BADGE_CAP: the number beside "To review" on
    every page a manager opens."""
    return _count_awaiting(user, BADGE_CAP)


def _count_awaiting(user, no_more_than: int) -> int:
    from sqlalchemy import func

    first = _awaiting_review(user).limit(no_more_than).subquery()
    return db.session.scalar(select(func.count()).select_from(first)) or 0


QUEUE_PAGE = 50  # a screenful of rows; "Load more" brings the next ones


def review_queue(user, args: dict, limit: int | None = None) -> tuple[list[Finding], str | None]:
    """One page of the queue, oldest first, filtered by review status, site, supervisor and date,
    after `args["cursor"]` (the last row of the page before): (rows, the cursor of the next page or
    None). The queue of pending, rejected or merged findings walks their index (IN_REVIEW) in order."""
    from datetime import datetime, time, timedelta

    from webapp.authz import scoped
    from webapp.core import keyset
    from webapp.core.clock import company_zone

    status = args.get("review") or "pending"
    q = scoped(Finding, user).where(Finding.deleted_at.is_(None) if status == "confirmed" else Finding.in_review(),
                                    Finding.review_status == status)
    if args.get("site_id"):
        q = q.where(Finding.site_id == args["site_id"])
    if args.get("supervisor_id"):
        q = q.where(Finding.supervisor_id == args["supervisor_id"])
    zone = company_zone()
    if args.get("date_from"):
        q = q.where(Finding.captured_at >= datetime.combine(args["date_from"], time.min, zone))
    if args.get("date_to"):
        q = q.where(Finding.captured_at < datetime.combine(args["date_to"] + timedelta(days=1), time.min, zone))
    oldest_first = keyset.Walk("", q, ((Finding.captured_at, False), (Finding.id, False)), ("moment", "id"))
    return keyset.page([oldest_first], args.get("cursor"), limit or QUEUE_PAGE)
