"""Checklist templates (检查表模板): admins edit, managers view; every revision stays readable."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from marshmallow import ValidationError
from sqlalchemy import func, select

from webapp.authz import can
from webapp.checklists import operations as ops
from webapp.checklists.models import ANSWER_TYPES, AREAS, SCORING, ChecklistTemplate
from webapp.checklists.schemas import TemplateArgs, classes_from_text, items_from_form, options_text
from webapp.core.formdata import form_to_dict, translate_errors
from webapp.extensions import db
from webapp.i18n import current_locale_code, term
from webapp.org.models import Site
from webapp.photos.ingest import PhotoRejected
from webapp.photos.operations import record_upload, rejection_message, storage_failure, store_upload
from webapp.photos.storage import StorageError
from webapp.visits.answers import option_label, range_text
from webapp.visits.models import Visit

bp = Blueprint("checklists", __name__, url_prefix="/checklists")
BLANK_ROWS = 2


@bp.before_request
@login_required
def _only_admin_and_management():
    if request.endpoint == "checklists.library":  # the template library: reference data, for every planner
        return
    if not can(current_user, "templates.view"):
        abort(403)


def _require_editor():
    if not can(current_user, "templates.edit"):
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
                           areas=AREAS, range_text=range_text, condition_label=lambda i: condition_label(tpl, i))


def condition_label(tpl, item) -> str:
    """The answer an item's condition waits for, in words (a result, or the earlier item's option)."""
    want = (item.condition or {}).get("answer")
    if want in ("pass", "fail", "na"):
        return term("result", want)
    parent = next((i for i in tpl.items if i.code == (item.condition or {}).get("item")), None)
    label = parent and option_label(parent, want, current_locale_code())
    return label or "—"


def _item_values(tpl):
    return [{"area": i.area, "code": i.code, "title": i.title, "title_en": i.title_en or "",
             "guidance": i.guidance or "", "criteria": i.criteria or "", "weight": i.weight, "scoring": i.scoring,
             "max_points": i.max_points, "photo_required_on_fail": i.photo_required_on_fail,
             "answer_type": i.answer_type, "scale_min": i.scale_min, "scale_max": i.scale_max,
             "options": i.options or [], "range_min": i.range_min, "range_max": i.range_max, "unit": i.unit or "",
             "condition": i.condition, "reference_photos": i.reference_photos or []} for i in tpl.items]


def _form(tpl, values, items, errors, status=200):
    for row in items:  # the options as the admin types them
        if "options_text" not in row:
            row["options_text"] = row["options"] if isinstance(row.get("options"), str) else options_text(
                row.get("options") or [])
    return render_template("checklists/form.html", template=tpl, values=values, items=items, errors=errors,
                           areas=AREAS, scorings=SCORING, answer_types=ANSWER_TYPES, blank_rows=BLANK_ROWS, all_items=items,
                           used=bool(tpl and ops.is_used(tpl))), status


def _ingest_reference_photos() -> dict[int, list[str]]:
    """Reference photos uploaded with the form (items-<n>-reference_upload), through the one ingest
    path, before the write transaction; raises PhotoRejected or StorageError."""
    db.session.rollback()
    uploads: dict[int, list] = {}
    for key in request.files:
        parts = key.split("-", 2)
        if len(parts) != 3 or parts[0] != "items" or not parts[1].isdigit() or parts[2] != "reference_upload":
            continue
        for fs in request.files.getlist(key):
            if fs and fs.filename:
                uploads.setdefault(int(parts[1]), []).append(store_upload(fs.read()))
    shas = {}
    for n, ups in uploads.items():
        shas[n] = [record_upload(u, current_user)[0].sha256 for u in ups]
    return shas


def _flat(messages) -> list[str]:
    if isinstance(messages, dict):
        return [m for v in messages.values() for m in _flat(v)]
    if isinstance(messages, list):
        return [m for v in messages for m in _flat(v)]
    return [str(messages)]


def _save(tpl):
    _require_editor()
    raw = form_to_dict(request.form)
    raw = {k: v for k, v in raw.items() if not k.startswith("items-")}
    try:
        uploads = _ingest_reference_photos()
        upload_error = None
    except PhotoRejected as e:
        uploads, upload_error = {}, rejection_message(e.code)
    except StorageError as e:
        uploads, upload_error = {}, storage_failure(e)[1]
    raw["items"] = items_from_form(request.form, uploads)
    raw["site_classes"] = classes_from_text(raw.pop("site_classes", None))
    shown = {**raw, "site_classes": ", ".join(raw["site_classes"])}
    parse_errors = {n: {"options": [row.pop("_options_error")]} for n, row in enumerate(raw["items"])
                    if "_options_error" in row}
    if upload_error:
        db.session.commit()  # the photos that did go in stay with the form
        return _form(tpl, shown, raw["items"], {"_schema": [upload_error]}, 400)
    try:
        data = TemplateArgs().load(raw)
        if parse_errors:
            raise ValidationError({"items": parse_errors})
    except ValidationError as e:
        db.session.commit()  # keep the reference photos just uploaded: the re-shown form refers to them
        errors = translate_errors(e.messages)
        if parse_errors and isinstance(errors.get("items"), dict):
            for n, errs in parse_errors.items():
                errors["items"].setdefault(n, {}).update(errs)
        if isinstance(errors.get("items"), dict):  # an option's own errors, flat beside the options
            errors["items"] = {n: {f: _flat(m) for f, m in errs.items()} if isinstance(errs, dict) else {"_": _flat(errs)}
                               for n, errs in errors["items"].items()}
        return _form(tpl, shown, raw["items"], errors, 400)
    try:
        saved = ops.create_template(current_user, data) if tpl is None else ops.edit_template(current_user, tpl, data)
    except ops.TemplateError as e:
        db.session.rollback()
        if e.status == 403:
            abort(403)
        return _form(tpl, shown, raw["items"], e.fields or {"_schema": [e.message]}, e.status)
    db.session.commit()
    if tpl is not None and saved.id != tpl.id:
        flash(_("Visits already use this template, so your changes were saved as revision %(n)s. "
                "Past visits keep the revision they were started with.", n=saved.revision), "info")
    else:
        flash(_("The template was saved."), "info")
    return redirect(url_for("checklists.detail", template_id=saved.id))


@bp.route("/new", methods=["GET", "POST"])
def new():
    _require_editor()
    if request.method == "POST":
        return _save(None)
    return _form(None, {}, [], {})


@bp.route("/<template_id>/edit", methods=["GET", "POST"])
def edit(template_id):
    tpl = _template_or_404(template_id)
    _require_editor()
    if not tpl.is_current:
        flash(_("Only the current revision of a template can be edited."), "error")
        return redirect(url_for("checklists.detail", template_id=tpl.id))
    if request.method == "POST":
        return _save(tpl)
    values = {"code": tpl.code, "name": tpl.name, "name_en": tpl.name_en or "", "description": tpl.description or "",
              "site_classes": ", ".join(tpl.site_classes or [])}
    return _form(tpl, values, _item_values(tpl), {})


@bp.get("/item-row")
def item_row():
    """One blank item row for the edit table (htmx "add item")."""
    _require_editor()
    n = min(max(request.args.get("n", type=int) or 0, 0), 500)
    html = render_block("checklists/form.html", "item_row_block", n=n, item={}, areas=AREAS, scorings=SCORING,
                        answer_types=ANSWER_TYPES, errors={}, all_items=[])
    return html


@bp.get("/library")
def library():
    """The template choices for a new visit to a site (htmx, the plan's schedule form): the
    templates meant for the site's class first."""
    site = db.session.get(Site, request.args.get("site_id", "")[:36])
    site_class = site.site_class if site is not None and site.deleted_at is None else None
    templates = ops.templates_for_site_class(site_class)
    first = [t for t in templates if site_class and site_class in (t.site_classes or [])]
    return render_template("checklists/_library_options.html", templates=templates, first=first,
                           site_class=site_class, selected=request.args.get("template_id", ""))
