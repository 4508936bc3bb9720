
from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from webapp.authz import scope_clause, scoped
from webapp.core.clock import company_today
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.home.nav import bar_for, nav_for
from webapp.plans.models import Plan
from webapp.plans.progress import last_day, overdue_clause
from webapp.rectification.operations import head_worklist
from webapp.visits.models import Visit

bp = Blueprint("home", __name__)


@bp.app_context_processor
def _nav():
    if current_user and current_user.is_authenticated:
        nav = nav_for(current_user)
        bar, more = bar_for(nav)
        return {"nav": nav, "nav_bar": bar, "nav_more": more}
    return {"nav": [], "nav_bar": [], "nav_more": False}


def _count(model, *where):
    q = select(func.count()).select_from(model).where(scope_clause(model, current_user), *where)
    if hasattr(model, "deleted_at"):
        q = q.where(model.deleted_at.is_(None))
    return db.session.scalar(q)


def _open_visits(*where, order):
    return db.session.scalars(
        scoped(Visit, current_user).where(Visit.deleted_at.is_(None), Visit.status != "completed", *where)
        .order_by(*order).limit(8)
    ).all()


@bp.get("/")
@login_required
def index():
    # Overdue as the plans count it (webapp/plans/progress.py): not completed and its last day
    # (due_by, else scheduled_for) before today. They are not "upcoming"; one without a day is.
    today = company_today()
    overdue = overdue_clause(Visit, today)
    visits = _open_visits(~func.coalesce(overdue, False), order=(Visit.scheduled_for.is_(None), Visit.scheduled_for))
    overdue_visits = _open_visits(overdue, order=(last_day(Visit).desc(),))
    findings = db.session.scalars(
        scoped(Finding, current_user)
        .where(Finding.standing(), Finding.status != "closed")
        .order_by(Finding.captured_at.desc())
        .limit(8)
    ).all()
    counts = {
        "open_visits": _count(Visit, Visit.status != "completed"),
        "overdue_visits": _count(Visit, overdue),
        "open_findings": _count(Finding, Finding.standing(), Finding.status != "closed"),
        "high_findings": _count(Finding, Finding.standing(), Finding.status != "closed",
                                Finding.severity.in_(("high", "critical"))),
        "pending_acceptance": _count(Finding, Finding.status == "pending_acceptance"),
        "plans_to_approve": _count(Plan, Plan.status == "submitted") if current_user.role in ("manager", "admin") else 0,
    }
    # A department head's home is their own deadlines, not the supervisors' visits (issue #19, 9).
    worklist = head_worklist(current_user) if current_user.role == "dept_head" else None
    return render_template("home/index.html", visits=visits, overdue_visits=overdue_visits, findings=findings,
                           counts=counts, worklist=worklist, today=today)


@bp.get("/more")
@login_required
def more():
    """Every page of the navigation as large tap targets: the phone's bottom bar holds only a few."""
    return render_template("home/more.html")
