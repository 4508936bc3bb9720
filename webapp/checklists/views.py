"""Checklist templates (检查表模板): admins edit, managers view; every revision stays readable."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from marshmallow import ValidationError
from sqlalchemy import func, select

from webapp.checklists import operations as ops
from webapp.checklists.models import AREAS, SCORING, ChecklistTemplate
from webapp.checklists.schemas import TemplateArgs, items_from_form
from webapp.core.formdata import form_to_dict, translate_errors
from webapp.extensions import db
from webapp.visits.models import Visit

bp = Blueprint("checklists", __name__, url_prefix="/checklists")
VIEWERS = ("admin", "manager")
BLANK_ROWS = 2


@bp.before_request
@login_required
def _only_admin_and_management():
    if current_user.role not in VIEWERS:
        abort(403)


def _template_or_404(template_id) -> ChecklistTemplate:
    tpl = db.session.get(ChecklistTemplate, template_id)
    if tpl is None or tpl.deleted_at is not None:
        abort(404)
    return tpl


@bp.get("/")
def index():
    templates = db.session.scalars(select(ChecklistTemplate).where(
        ChecklistTemplate.is_current.is_(True), ChecklistTemplate.deleted_at.is_(None))
        .order_by(ChecklistTemplate.code)).all()
    counts = dict(db.session.execute(select(ChecklistTemplate.code, func.count()).group_by(ChecklistTemplate.code)).all())
    return render_template("checklists/index.html", templates=templates, counts=counts)


@bp.get("/<template_id>")
def detail(template_id):
    tpl = _template_or_404(template_id)
    uses = db.session.scalar(select(func.count()).select_from(Visit).where(Visit.template_id == tpl.id))
    return render_template("checklists/detail.html", template=tpl, revisions=ops.revisions(tpl.code), uses=uses,
                           areas=AREAS)


def _item_values(tpl):
    return [{"area": i.area, "code": i.code, "title": i.title, "title_en": i.title_en or "",
             "guidance": i.guidance or "", "weight": i.weight, "scoring": i.scoring, "max_points": i.max_points,
             "photo_required_on_fail": i.photo_required_on_fail} for i in tpl.items]


def _form(tpl, values, items, errors, status=200):
    return render_template("checklists/form.html", template=tpl, values=values, items=items, errors=errors,
                           areas=AREAS, scorings=SCORING, blank_rows=BLANK_ROWS,
                           used=bool(tpl and ops.is_used(tpl))), status


def _save(tpl):
    if current_user.role != "admin":
        abort(403)
    raw = form_to_dict(request.form)
    raw = {k: v for k, v in raw.items() if not k.startswith("items-")}
    raw["items"] = items_from_form(request.form)
    try:
        data = TemplateArgs().load(raw)
    except ValidationError as e:
        return _form(tpl, raw, raw["items"], translate_errors(e.messages), 400)
    try:
        saved = ops.create_template(current_user, data) if tpl is None else ops.edit_template(current_user, tpl, data)
    except ops.TemplateError as e:
        db.session.rollback()
        if e.status == 403:
            abort(403)
        return _form(tpl, raw, raw["items"], e.fields or {"_schema": [e.message]}, e.status)
    db.session.commit()
    if tpl is not None and saved.id != tpl.id:
        flash(_("Visits already use this template, so your changes were saved as revision %(n)s. "
                "Past visits keep the revision they were started with.", n=saved.revision), "info")
    else:
        flash(_("The template was saved."), "info")
    return redirect(url_for("checklists.detail", template_id=saved.id))


@bp.route("/new", methods=["GET", "POST"])
def new():
    if current_user.role != "admin":
        abort(403)
    if request.method == "POST":
        return _save(None)
    return _form(None, {}, [], {})


@bp.route("/<template_id>/edit", methods=["GET", "POST"])
def edit(template_id):
    tpl = _template_or_404(template_id)
    if current_user.role != "admin":
        abort(403)
    if not tpl.is_current:
        flash(_("Only the current revision of a template can be edited."), "error")
        return redirect(url_for("checklists.detail", template_id=tpl.id))
    if request.method == "POST":
        return _save(tpl)
    values = {"code": tpl.code, "name": tpl.name, "name_en": tpl.name_en or "", "description": tpl.description or ""}
    return _form(tpl, values, _item_values(tpl), {})


@bp.get("/item-row")
def item_row():
    """One blank item row for the edit table (htmx "add item")."""
    if current_user.role != "admin":
        abort(403)
    n = request.args.get("n", type=int) or 0
    html = render_block("checklists/form.html", "item_row_block", n=n, item={}, areas=AREAS, scorings=SCORING,
                        errors={})
    return html
