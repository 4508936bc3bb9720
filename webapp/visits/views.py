from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.auth.scope import get_scoped_or_404, scoped
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.visits.models import ChecklistAnswer, Interview, Meeting, Metric, Visit
from webapp.visits.scoring import score_by_area

bp = Blueprint("visits", __name__, url_prefix="/visits")


@bp.get("/")
@login_required
def index():
    visits = db.session.scalars(
        scoped(Visit, current_user)
        .where(Visit.deleted_at.is_(None))
        .options(selectinload(Visit.site), selectinload(Visit.supervisor))
        .order_by(Visit.scheduled_for.desc().nulls_last(), Visit.created_at.desc())
        .limit(200)
    ).all()
    return render_template("visits/index.html", visits=visits)


@bp.get("/<visit_id>")
@login_required
def detail(visit_id):
    visit = get_scoped_or_404(Visit, visit_id, current_user)
    live = lambda model: db.session.scalars(  # noqa: E731
        select(model).where(model.visit_id == visit.id, model.deleted_at.is_(None))
    ).all()
    answers = live(ChecklistAnswer)
    return render_template(
        "visits/detail.html",
        visit=visit,
        meetings=live(Meeting),
        answers=answers,
        metrics=live(Metric),
        interviews=live(Interview),
        findings=live(Finding),
        scores=score_by_area(visit.template.items, answers),
    )
