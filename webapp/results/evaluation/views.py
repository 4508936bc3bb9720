"""Summary evaluation pages (总结评估): the evaluation of a visit or a plan with its before/after
comparison, and the form to write it."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy.orm import selectinload

from webapp.authz import evaluation_subject_roles, scoped
from webapp.core.clock import company_tz_name as _tz
from webapp.core.formdata import form_to_dict, refusal_errors, translate_errors
from webapp.core.views import render_page
from webapp.extensions import db
from webapp.results.evaluation import operations as ops
from webapp.results.evaluation.schemas import EvaluationArgs
from webapp.results.models import Evaluation

bp = Blueprint("evaluation", __name__, url_prefix="/results/evaluation")


@bp.app_template_global()
def may_read_evaluations(user) -> bool:
    """For the small links on the visit and plan pages."""
    return bool(getattr(user, "is_authenticated", False)) and evaluation_subject_roles(user)


def _findings_href(site_id, window, **extra) -> str | None:
    if window is None or window[0] is None:
        return None
    params = {"date_from": window[0].isoformat(), "date_to": window[1].isoformat(), **extra}
    if site_id:
        params["site_id"] = site_id
    return url_for("findings.index", **params)


def _row_params(row) -> dict:
    if row["measure"] == "severity":
        return {"severity": row["severity"]}
    if row["measure"] in ("repeats", "repeat_rate"):
        return {"repeat": 1}
    return {}


def _link_finding_rows(rows, site_id, before_window, after_window):
    for row in rows:
        row["before_href"] = _findings_href(site_id, before_window, **_row_params(row)) if row["before"] is not None else None
        row["after_href"] = _findings_href(site_id, after_window, **_row_params(row))
    return rows



def _vary(resp):
    resp = current_app.make_response(resp)
    resp.vary.add("HX-Request")
    return resp


# ---- list --------------------------------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    if not evaluation_subject_roles(current_user):
        abort(403)
    evaluations = db.session.scalars(scoped(Evaluation, current_user).order_by(Evaluation.updated_at.desc())
                                     .limit(200)).all()
    from webapp.plans.models import Plan
    from webapp.visits.models import Visit

    visits = {v.id: v for v in db.session.scalars(scoped(Visit, current_user).where(
        Visit.id.in_([e.visit_id for e in evaluations if e.visit_id])).options(selectinload(Visit.site)))}
    plans = {p.id: p for p in db.session.scalars(scoped(Plan, current_user).where(
        Plan.id.in_([e.plan_id for e in evaluations if e.plan_id])))}
    return _vary(render_page("results/evaluation/index.html", "evaluation_list", evaluations=evaluations,
                       visits=visits, plans=plans))


# ---- a visit -----------------------------------------------------------------------------------

def _visit_context(visit, with_comparison=True, **extra) -> dict:
    comparison = None
    if with_comparison:
        comparison = ops.visit_comparison(current_user, visit, _tz())
        prev = comparison["previous"]
        _link_finding_rows(comparison["findings"], visit.site_id, comparison["window_before"] if prev else None,
                           comparison["window_after"])
    ctx = {"subject": "visit", "visit": visit, "plan": None, "comparison": comparison,
           "evaluation": ops.evaluation_of(visit=visit),
           "can_write": ops.can_write_visit_evaluation(current_user, visit),
           "can_propose": _can_propose(),
           "form_action": url_for("evaluation.edit_visit", visit_id=visit.id),
           "page_url": url_for("evaluation.visit", visit_id=visit.id)}
    ctx.update(extra)
    return ctx


def _can_propose() -> bool:
    from webapp.results.policy.operations import can_propose

    return can_propose(current_user)


@bp.get("/visits/<visit_id>")
@login_required
def visit(visit_id):
    subject = ops.visit_for_evaluation(current_user, visit_id)
    return _vary(render_page("results/evaluation/page.html", "evaluation_body", **_visit_context(subject)))


@bp.route("/visits/<visit_id>/edit", methods=["GET", "POST"])
@login_required
def edit_visit(visit_id):
    subject = ops.visit_for_evaluation(current_user, visit_id)
    if not ops.can_write_visit_evaluation(current_user, subject):
        abort(403)
    return _edit(_visit_context(subject, with_comparison=False), lambda data: ops.save_evaluation(current_user, data, visit=subject))


# ---- a plan ------------------------------------------------------------------------------------

def _plan_context(plan, with_comparison=True, **extra) -> dict:
    comparison = None
    if with_comparison:
        comparison = ops.plan_comparison(current_user, plan, _tz())
        before_w, after_w = comparison["window_before"], comparison["window_after"]
        for row in comparison["sites"]:
            row["before_href"] = _findings_href(row["site"].id, before_w)
            row["after_href"] = _findings_href(row["site"].id, after_w)
            row["before_repeat_href"] = _findings_href(row["site"].id, before_w, repeat=1)
            row["after_repeat_href"] = _findings_href(row["site"].id, after_w, repeat=1)
    ctx = {"subject": "plan", "visit": None, "plan": plan, "comparison": comparison,
           "evaluation": ops.evaluation_of(plan=plan),
           "can_write": ops.can_write_plan_evaluation(current_user, plan),
           "can_propose": _can_propose(),
           "form_action": url_for("evaluation.edit_plan", plan_id=plan.id),
           "page_url": url_for("evaluation.plan", plan_id=plan.id)}
    ctx.update(extra)
    return ctx


@bp.get("/plans/<plan_id>")
@login_required
def plan(plan_id):
    subject = ops.plan_for_evaluation(current_user, plan_id)
    return _vary(render_page("results/evaluation/page.html", "evaluation_body", **_plan_context(subject)))


@bp.route("/plans/<plan_id>/edit", methods=["GET", "POST"])
@login_required
def edit_plan(plan_id):
    subject = ops.plan_for_evaluation(current_user, plan_id)
    if not ops.can_write_plan_evaluation(current_user, subject):
        abort(403)
    return _edit(_plan_context(subject, with_comparison=False), lambda data: ops.save_evaluation(current_user, data, plan=subject))


# ---- the form ----------------------------------------------------------------------------------

def _edit(ctx, save):
    evaluation = ctx["evaluation"]
    if request.method == "GET":
        values = {k: getattr(evaluation, k) or "" for k in ops.TEXT_FIELDS} if evaluation else {}
        return render_template("results/evaluation/form.html", values=values, errors={}, **ctx)
    raw = form_to_dict(request.form)
    errors = {}
    try:
        data = EvaluationArgs().load(raw)
    except ValidationError as e:
        errors = translate_errors(e.messages)
    else:
        try:
            save(data)
        except ops.EvaluationError as e:
            errors = refusal_errors(e)
        else:
            db.session.commit()
            flash(_("The evaluation was saved."), "info")
            return redirect(ctx["page_url"])
    return render_template("results/evaluation/form.html", values=raw, errors=errors, **ctx), 400
