from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from sqlalchemy import select

from webapp.authz import can, get_scoped_or_404
from webapp.core.text import clean_text
from webapp.core.views import is_htmx
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.i18n import current_locale_code
from webapp.photos.operations import gallery_items
from webapp.visits import operations as ops
from webapp.visits.answers import answer_rows, range_text
from webapp.visits.completion import REASON_MAX, unanswered_items
from webapp.visits.models import ChecklistAnswer, Interview, Meeting, Metric, Visit
from webapp.visits.scoring import score_by_area

bp = Blueprint("visits", __name__, url_prefix="/visits")


@bp.get("/")
@login_required
def index():
    """The visits the user may see, 50 a page ("Load more"), the latest day first, then the latest
    created; those without a day last. A chain has tens of thousands."""
    cursor = request.args.get("cursor", "")[:80] or None
    visits, next_cursor = ops.visits_page(current_user, cursor)
    if cursor and is_htmx():  # "Load more": the next rows only
        return render_block("visits/index.html", "rows", visits=visits, next_cursor=next_cursor, cursor=cursor)
    return render_template("visits/index.html", visits=visits, next_cursor=next_cursor, cursor=cursor)


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
        **_answers_by_area(visit, answers),
        visit=visit,
        meetings=live(Meeting),
        answers=answers,
        metrics=live(Metric),
        interviews=live(Interview),
        findings=live(Finding),
        scores=score_by_area(visit.template.items, answers),
        range_text=range_text,
        supervisors=ops.active_supervisors() if can(current_user, "visit.reassign", visit) else [],
        unanswered=len(unanswered_items(visit.template, {a.item_id: a for a in answers if a.result})),
        may_complete=visit.status != "completed" and can(current_user, "visit.complete", visit),
        reason_max=REASON_MAX,
    )


def _answers_by_area(visit, answers) -> dict:
    """The checklist as answered (webapp/visits/answers.py: each answer in its item's own terms),
    grouped by content area in the template's order, the failed ones counted per area and in all,
    and the photos of every answer the reader may see, for the photo viewer."""
    rows = answer_rows(visit.template.items, answers, current_locale_code())
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(row["item"].area, []).append(row)
    shas = sorted({s for a in answers for s in (a.photos or [])})
    photos = {g["photo"].sha256: g for g in gallery_items(shas, current_user)} if shas else {}
    asked = [r for r in rows if r["shown"]]
    return {"answer_rows": rows, "answer_groups": list(groups.items()), "answer_photos": photos,
            "answered_count": sum(1 for r in asked if r["result"]), "asked_count": len(asked),
            "failed_count": sum(1 for r in asked if r["result"] == "fail")}


@bp.post("/<visit_id>/reassign")
@login_required
def reassign(visit_id):
    visit = get_scoped_or_404(Visit, visit_id, current_user)
    try:
        ops.reassign_visit(visit, request.form.get("supervisor_id", ""), current_user)
    except ops.NotAllowed:
        db.session.rollback()
        abort(403)
    except ops.ReassignError as e:
        db.session.rollback()
        flash(str(e), "error")
        return redirect(url_for(".detail", visit_id=visit_id), 303)
    db.session.commit()
    flash(_("The visit now belongs to %(name)s.", name=visit.supervisor.display_name), "success")
    return redirect(url_for(".detail", visit_id=visit_id), 303)


@bp.post("/<visit_id>/complete")
@login_required
def complete(visit_id):
    visit = get_scoped_or_404(Visit, visit_id, current_user)
    reason = clean_text(request.form.get("completion_reason", ""))
    if len(reason) > REASON_MAX:
        flash(_("The reason is too long (at most %(n)d characters).", n=REASON_MAX), "error")
        return redirect(url_for(".detail", visit_id=visit_id), 303)
    try:
        ops.complete_visit(visit, current_user, reason)
    except ops.NotAllowed:
        db.session.rollback()
        abort(403)
    except ops.VisitError as e:
        db.session.rollback()
        flash(str(e), "error")
        return redirect(url_for(".detail", visit_id=visit_id), 303)
    db.session.commit()
    flash(_("The visit is completed."), "success")
    return redirect(url_for(".detail", visit_id=visit_id), 303)
