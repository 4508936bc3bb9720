"""/api/v1/rectifications: the open rectifications the caller may see, for the phone's department
head screens (a read-only side feed beside the sync pull: docs/sync-protocol.md). The findings
themselves, their photos and the progress reports travel through the sync protocol."""


from flask import jsonify
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.api import bp
from webapp.authz import can, scoped
from webapp.core.clock import company_today
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.rectification.models import AcceptanceRound, Rectification
from webapp.rectification.outcomes import is_overdue

OPEN = ("rectifying", "pending_acceptance")
LIMIT = 500


@bp.get("/rectifications")
@login_required
def rectifications():
    """Rectifying or awaiting acceptance, soonest deadline first: deadline, round, plan, the reason
    the last round failed, and whether the caller is the one to report progress."""
    user = current_user._get_current_object()
    rows = db.session.execute(
        scoped(Rectification, user).join(Finding, Finding.id == Rectification.finding_id)
        .add_columns(Finding)
        .where(Rectification.status.in_(OPEN), Finding.deleted_at.is_(None))
        .order_by(Rectification.deadline, Rectification.id).limit(LIMIT)).all()
    ids = [rect.id for rect, _f in rows]
    reasons = {}
    if ids:
        for rid, reason in db.session.execute(
                select(AcceptanceRound.rectification_id, AcceptanceRound.reason)
                .where(AcceptanceRound.rectification_id.in_(ids), AcceptanceRound.result == "fail")
                .order_by(AcceptanceRound.id)):
            reasons[rid] = reason  # the latest failed round's reason wins
    today = company_today()
    out = [{
        "id": rect.id, "finding_id": f.id, "status": rect.status, "round": rect.round,
        "deadline": rect.deadline.isoformat(), "overdue": is_overdue(rect, today),
        "measures": rect.measures, "owner": rect.owner, "last_reason": reasons.get(rect.id),
        "may_manage": can(user, "rectification.manage", f),
    } for rect, f in rows]
    resp = jsonify({"rectifications": out, "today": today.isoformat()})
    resp.headers["Cache-Control"] = "no-store"
    return resp
