"""Policy optimisation log pages (制度优化): list by status, propose/edit, detail with its history."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from sqlalchemy import func, select

from webapp.audit.models import AuditEntry
from webapp.auth.models import User
from webapp.authz import get_scoped_or_404, scoped
from webapp.core.formdata import form_to_dict, refusal_errors
from webapp.core.views import load_form
from webapp.extensions import db
from webapp.results.models import PolicySuggestion
from webapp.results.policy import operations as ops
from webapp.results.policy.schemas import (
    SourceArgs,
    SuggestionArgs,
    SuggestionFilterArgs,
    SuggestionTransitionArgs,
)

bp = Blueprint("policy", __name__, url_prefix="/results/policy")


@bp.app_template_global()
def may_propose_policy(user) -> bool:
    """For the "Suggest a policy change" links on other pages."""
    return bool(getattr(user, "is_authenticated", False)) and ops.can_propose(user)


def source_href(suggestion) -> str | None:
    """Where the suggestion came from (None when the source is gone or has no page)."""
    if not suggestion.source_type or not suggestion.source_id:
        return None
    record = ops.source_record(current_user, suggestion.source_type, suggestion.source_id)
    if record is None:
        return None
    if suggestion.source_type == "evaluation":
        if record.visit_id:
            return url_for("evaluation.visit", visit_id=record.visit_id)
        return url_for("evaluation.plan", plan_id=record.plan_id)
    if suggestion.source_type == "finding":
        return url_for("findings.detail", finding_id=record.id)
    return url_for("warnings.index", status=record.status) + f"#w-{record.id}"


def _require_reader():
    if not ops.can_read(current_user):
        abort(403)



def _names(ids) -> dict:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


@bp.get("/")
@login_required
def index():
    _require_reader()
    args, _errors = load_form(SuggestionFilterArgs(), form_to_dict(request.args))
    args = args or {"status": None, "source_type": None}
    q = scoped(PolicySuggestion, current_user)
    if args["source_type"]:
        q = q.where(PolicySuggestion.source_type == args["source_type"])
    counts = _status_counts(q)
    if args["status"]:
        q = q.where(PolicySuggestion.status == args["status"])
    suggestions = db.session.scalars(q.order_by(PolicySuggestion.updated_at.desc()).limit(500)).all()
    ctx = {"suggestions": suggestions, "args": args, "counts": counts, "statuses": ops.STATUSES,
           "source_types": ops.SOURCE_TYPES, "can_propose": ops.can_propose(current_user),
           "names": _names([s.owner_id for s in suggestions] + [s.author_id for s in suggestions])}
    if request.headers.get("HX-Request"):
        resp = current_app.make_response(render_block("results/policy/index.html", "suggestion_list", **ctx))
    else:
        resp = current_app.make_response(render_template("results/policy/index.html", **ctx))
    resp.vary.add("HX-Request")
    return resp


def _status_counts(q) -> dict:
    sub = q.subquery()
    return dict(db.session.execute(select(sub.c.status, func.count()).group_by(sub.c.status)).all())


# ---- propose and edit --------------------------------------------------------------------------

def _form(suggestion, values, errors, status=200):
    return render_template("results/policy/form.html", suggestion=suggestion, values=values, errors=errors,
                           owners=ops.owners(), can_manage=ops.can_manage(current_user),
                           source_types=ops.SOURCE_TYPES,
                           source=ops.source_record(current_user, values.get("source_type"), values.get("source_id")),
                           ), status


def _save(suggestion):
    raw = form_to_dict(request.form)
    data, errors = load_form(SuggestionArgs(), raw)
    if data is not None:
        try:
            if suggestion is None:
                suggestion = ops.create_suggestion(current_user, data)
            else:
                ops.update_suggestion(current_user, suggestion, data)
        except ops.PolicyError as e:
            errors = refusal_errors(e)
        else:
            db.session.commit()
            flash(_("The suggestion was saved."), "info")
            return redirect(url_for("policy.detail", suggestion_id=suggestion.id))
    if suggestion is not None:
        db.session.refresh(suggestion)
    return _form(suggestion, raw, errors, 400)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not ops.can_propose(current_user):
        abort(403)
    if request.method == "POST":
        return _save(None)
    source, _errors = load_form(SourceArgs(), form_to_dict(request.args))
    values = ops.prefill(current_user, source["source_type"], source["source_id"]) if source else {}
    if source and source.get("source_id") and not values:
        abort(404)  # a source the user cannot see looks like one that does not exist
    return _form(None, values, {})


@bp.route("/<suggestion_id>/edit", methods=["GET", "POST"])
@login_required
def edit(suggestion_id):
    suggestion = get_scoped_or_404(PolicySuggestion, suggestion_id, current_user)
    if not ops.can_edit(current_user, suggestion):
        abort(403)
    if request.method == "POST":
        return _save(suggestion)
    values = {"title": suggestion.title, "body": suggestion.body or "", "source_type": suggestion.source_type,
              "source_id": suggestion.source_id, "owner_id": suggestion.owner_id}
    return _form(suggestion, values, {})


# ---- detail and workflow -----------------------------------------------------------------------

def _detail(suggestion, status=200, **extra):
    history = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity == "policy_suggestion", AuditEntry.entity_id == suggestion.id)
        .order_by(AuditEntry.id)).all()
    ctx = {"suggestion": suggestion, "history": history, "source_href": source_href(suggestion),
           "names": _names([suggestion.owner_id, suggestion.author_id] + [h.user_id for h in history]),
           "transitions": ops.allowed_transitions(current_user, suggestion),
           "can_edit": ops.can_edit(current_user, suggestion), "transition_errors": {}, "comment": ""}
    ctx.update(extra)
    return render_template("results/policy/detail.html", **ctx), status


@bp.get("/<suggestion_id>")
@login_required
def detail(suggestion_id):
    return _detail(get_scoped_or_404(PolicySuggestion, suggestion_id, current_user))


@bp.post("/<suggestion_id>/transition")
@login_required
def transition(suggestion_id):
    suggestion = get_scoped_or_404(PolicySuggestion, suggestion_id, current_user)
    data, errors = load_form(SuggestionTransitionArgs(), form_to_dict(request.form))
    if data is not None:
        try:
            ops.transition_suggestion(current_user, suggestion, data["to"], data.get("comment"))
        except ops.PolicyError as e:
            errors = refusal_errors(e)
        else:
            db.session.commit()
            flash(_("The status of the suggestion was changed."), "info")
            return redirect(url_for("policy.detail", suggestion_id=suggestion.id))
    db.session.refresh(suggestion)
    return _detail(suggestion, 400, transition_errors=errors, comment=request.form.get("comment", ""))
