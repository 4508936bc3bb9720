"""Repeat problems (重复问题): a finding is a repeat when an earlier finding at the same site against
the same checklist item, on another visit, was captured within REPEAT_WINDOW before it. The link is kept in
`repeat_of_id` (the most recent earlier one) and set by the server when a finding is first stored,
whichever way it arrives (phone sync, web, seed). A finding that arrives late (captured earlier than
findings already stored) also becomes the predecessor of the stored ones that had none."""

from datetime import UTC, timedelta

from sqlalchemy import event, select, tuple_
from sqlalchemy.orm import Session

REPEAT_WINDOW = timedelta(days=365)


def _candidates(session: Session, keys: set[tuple[str, str]]):
    from webapp.findings.models import Finding

    with session.no_autoflush:
        return session.scalars(select(Finding).where(
            tuple_(Finding.site_id, Finding.item_id).in_(list(keys)), Finding.deleted_at.is_(None))).all()


def link_repeats(session: Session, new_findings: list) -> None:
    """Set repeat_of_id on new findings (and on stored later ones a late arrival precedes)."""
    fresh = [f for f in new_findings if f.site_id and f.item_id and f.captured_at and f.deleted_at is None]
    if not fresh:
        return
    keys = {(f.site_id, f.item_id) for f in fresh}
    pool: dict[tuple, list] = {}
    for f in list(_candidates(session, keys)) + fresh:
        bucket = pool.setdefault((f.site_id, f.item_id), [])
        if f not in bucket:
            bucket.append(f)
    fresh_ids = set(map(id, fresh))
    for bucket in pool.values():
        bucket.sort(key=lambda f: (_utc(f.captured_at), str(f.id)))
        for i, after in enumerate(bucket):
            if after.repeat_of_id is not None:
                continue
            for before in reversed(bucket[:i]):  # the most recent earlier finding of another visit
                if before.visit_id == after.visit_id:
                    continue
                if _utc(after.captured_at) - _utc(before.captured_at) <= REPEAT_WINDOW and \
                        (id(after) in fresh_ids or id(before) in fresh_ids):
                    after.repeat_of = before
                break


def _utc(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _before_flush(session: Session, _ctx, _instances):
    from webapp.findings.models import Finding

    new = [obj for obj in session.new if isinstance(obj, Finding)]
    if new:
        for f in new:
            if f.id is None:  # ids are client- or default-generated; make sure we can link to it
                from webapp.core.models import new_id

                f.id = new_id()
        link_repeats(session, new)


def install_repeat_detection() -> None:
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
