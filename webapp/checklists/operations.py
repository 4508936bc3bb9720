"""Checklist templates (admin): create, edit. Editing a template a visit uses makes a new revision —
a new row with copied items, `is_current` moved — so past results never change. A template no
visit uses yet is edited in place."""

from flask_babel import gettext as _
from sqlalchemy import exists, select

from webapp.audit.operations import record_audit
from webapp.authz import can
from webapp.checklists.models import ChecklistTemplate, TemplateItem
from webapp.checklists.schemas import normalize_item
from webapp.extensions import db
from webapp.visits.models import Visit

ITEM_FIELDS = ("area", "code", "title", "title_en", "guidance", "weight", "scoring", "max_points",
               "photo_required_on_fail", "answer_type", "criteria", "scale_min", "scale_max", "options",
               "range_min", "range_max", "unit", "condition", "reference_photos")
ITEM_DEFAULTS = {"weight": 1.0, "max_points": 10.0, "scoring": "pass_fail", "answer_type": "pass_fail",
                 "options": [], "reference_photos": []}


class TemplateError(Exception):
    def __init__(self, message: str, fields: dict | None = None, status: int = 400):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.status = status


def _require_admin(user) -> None:
    if not can(user, "templates.edit"):
        raise TemplateError(_("Only administrators can change checklist templates."), status=403)


def is_used(template: ChecklistTemplate) -> bool:
    return bool(db.session.scalar(select(exists().where(Visit.template_id == template.id))))


def revisions(code: str) -> list[ChecklistTemplate]:
    return db.session.scalars(select(ChecklistTemplate).where(ChecklistTemplate.code == code)
                              .order_by(ChecklistTemplate.revision.desc())).all()


def _prepare(items: list[dict]) -> list[dict]:
    rows = []
    for row in items:
        row = {k: row.get(k) for k in ITEM_FIELDS}
        for k, v in ITEM_DEFAULTS.items():
            if row.get(k) is None:
                row[k] = list(v) if isinstance(v, list) else v
        rows.append(normalize_item(row))
    return rows


def _fill_items(template: ChecklistTemplate, items: list[dict]) -> None:
    template.items = [TemplateItem(position=pos, **row) for pos, row in enumerate(_prepare(items))]


def create_template(user, data: dict) -> ChecklistTemplate:
    _require_admin(user)
    code = (data.get("code") or "").upper()
    if not code:
        raise TemplateError(_("Some fields are not valid."), {"code": [_("This field is required.")]})
    if db.session.scalar(select(exists().where(ChecklistTemplate.code == code))):
        raise TemplateError(_("Some fields are not valid."), {"code": [_("This code is already in use.")]}, 409)
    template = ChecklistTemplate(code=code, revision=1, name=data["name"], name_en=data.get("name_en"),
                                 description=data.get("description"), is_current=True,
                                 site_classes=data.get("site_classes") or [])
    _fill_items(template, data["items"])
    db.session.add(template)
    db.session.flush()
    record_audit(user, "template.created", "template", template.id, {"code": code, "revision": 1})
    return template


def _same_items(template: ChecklistTemplate, items: list[dict]) -> bool:
    old = [tuple(getattr(i, k) for k in ITEM_FIELDS) for i in template.items]
    new = [tuple(row.get(k) for k in ITEM_FIELDS) for row in _prepare(items)]
    return old == new


def edit_template(user, template: ChecklistTemplate, data: dict) -> ChecklistTemplate:
    """Returns the template that now holds the content: the same row, or a new revision."""
    _require_admin(user)
    if not template.is_current:
        raise TemplateError(_("Only the current revision of a template can be edited."), status=409)
    if not is_used(template):
        for name in ("name", "name_en", "description"):
            setattr(template, name, data.get(name))
        template.site_classes = data.get("site_classes") or []
        if not _same_items(template, data["items"]):
            _fill_items(template, data["items"])
        db.session.flush()
        record_audit(user, "template.edited", "template", template.id,
                     {"code": template.code, "revision": template.revision})
        return template
    latest = max(t.revision for t in revisions(template.code))
    template.is_current = False
    new = ChecklistTemplate(code=template.code, revision=latest + 1, name=data["name"], name_en=data.get("name_en"),
                            description=data.get("description"), is_current=True,
                            site_classes=data.get("site_classes") or [])
    _fill_items(new, data["items"])
    db.session.add(new)
    db.session.flush()
    record_audit(user, "template.revised", "template", new.id,
                 {"code": new.code, "revision": new.revision, "previous": template.id})
    return new


def templates_for_site_class(site_class: str | None) -> list[ChecklistTemplate]:
    """The template library for a new visit: the current templates meant for the site's class first,
    then those meant for every class, then the rest (by code within each)."""
    rows = db.session.scalars(select(ChecklistTemplate).where(
        ChecklistTemplate.is_current.is_(True), ChecklistTemplate.deleted_at.is_(None))
        .order_by(ChecklistTemplate.code)).all()

    def rank(t: ChecklistTemplate) -> int:
        classes = t.site_classes or []
        if site_class and site_class in classes:
            return 0
        return 1 if not classes else 2
    return sorted(rows, key=rank)
