"""A finding keeps the deadline of its rectification while that is being rectified
(`findings.rectification_deadline`, NULL otherwise), so the findings list's overdue filter reads one
table: an index of the findings being rectified can then skip, in the index, those whose deadline has
not passed, instead of probing a rectification for each (docs/benchmarks.md, "Findings list").

Kept at every flush that adds, changes or deletes a rectification, whoever writes it (the
rectification pages, the demo seed): one UPDATE after the flush, not an ORM change of the finding, so
the finding gets no new version — the column is not synced data. `copy_all` sets every finding from
the rectifications (the seed commands, after writing rows directly; migration 0125 did the same).
"""

from datetime import date

from sqlalchemy import and_, bindparam, event, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from webapp.findings.models import Finding
from webapp.rectification.models import Rectification

_COPY = (update(Finding.__table__).where(Finding.__table__.c.id == bindparam("fid"))
         .values(rectification_deadline=bindparam("deadline")))


def copied_deadline(rect: Rectification | None):
    """What the finding keeps: the deadline while the rectification is being rectified, else None."""
    return rect.deadline if rect is not None and rect.status == "rectifying" else None


def overdue_findings(today: date):
    """The findings whose rectification is overdue (`operations.overdue_clause`: being rectified past
    its deadline), read from the copy. The index of the findings being rectified
    (ix_findings_rectifying_deadline: newest first, with the deadline) then skips, in the index, those
    not yet due — 7,000–15,600 at 1M findings, each a rectification probe before (≈ 32 ms)."""
    return and_(Finding.status == "rectifying", Finding.rectification_deadline < today)


def _after_flush(session: Session, _context) -> None:
    values = {}
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Rectification) and obj.finding_id is not None:
            values[obj.finding_id] = copied_deadline(obj)
    for obj in session.deleted:
        if isinstance(obj, Rectification) and obj.finding_id is not None:
            values.setdefault(obj.finding_id, None)
    if not values:
        return
    session.connection().execute(_COPY, [{"fid": fid, "deadline": d} for fid, d in sorted(values.items())])
    for fid, deadline in values.items():  # a finding loaded in this session sees it without a reload
        finding = session.identity_map.get(identity_key(Finding, fid))
        if finding is not None:
            set_committed_value(finding, "rectification_deadline", deadline)


def copy_all(session: Session) -> None:
    """Every finding's copy, from the rectifications (after rows were written without the ORM)."""
    rect = Rectification.__table__
    session.execute(update(Finding.__table__).values(rectification_deadline=None)
                    .where(Finding.__table__.c.rectification_deadline.is_not(None)))
    session.execute(update(Finding.__table__).values(rectification_deadline=(
        select(rect.c.deadline).where(rect.c.finding_id == Finding.__table__.c.id, rect.c.status == "rectifying")
        .scalar_subquery())).where(Finding.__table__.c.id.in_(
            select(rect.c.finding_id).where(rect.c.status == "rectifying"))))


def install_deadline_copy() -> None:
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
