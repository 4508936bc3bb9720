"""The rectification list as it was read before migration 0128 — one statement joining every finding
to its rectification and sorting them all — kept as the reference `open_work` is compared with
(tests/rectification/test_list.py, bench/rectification_list.py)."""

from sqlalchemy.orm import selectinload

from webapp.authz import scoped
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.rectification import operations as ops
from webapp.rectification.models import Rectification


def joined_and_sorted(user, args: dict, today, limit: int = ops.LIST_PAGE):
    q = (scoped(Finding, user).where(Finding.deleted_at.is_(None))
         .outerjoin(Rectification, Rectification.finding_id == Finding.id).add_columns(Rectification)
         .options(selectinload(Finding.department), selectinload(Finding.site)))
    if args.get("overdue"):
        q = q.where(ops.overdue_clause(today))
    status = args.get("status")
    if status == "to_plan":
        q = q.where(Finding.status == "open")
    elif status:
        q = q.where(Rectification.status == status)
    else:
        q = q.where(Finding.status != "closed")
    return db.session.execute(q.order_by(Rectification.deadline.is_(None), Rectification.deadline,
                                         Finding.captured_at.desc()).limit(limit)).all()
