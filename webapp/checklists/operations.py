"""Checklist templates (admin): create, edit. Editing a template a visit uses makes a new revision —
a new row with copied items, `is_current` moved — so past results never change. A template no
visit uses yet is edited in place."""

from flask_babel import gettext as _
from sqlalchemy import exists, select

from webapp.audit.operations import record_audit
from webapp.checklists.models import ChecklistTemplate, TemplateItem
from webapp.extensions import db
from webapp.visits.models import Visit

ITEM_FIELDS = ("area", "code", "title", "title_en", "guidance", "weight", "scoring", "max_points",
               "photo_required_on_fail")


class TemplateError(Exception):
    def __init__(self, message: str, fields: dict | None = None, status: int = 400):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.status = status


def _require_admin(user) -> None:
    if user.role != "admin":
        raise TemplateError(_("Only administrators can change checklist templates."), status=403)


def is_used(template: ChecklistTemplate) -> bool:
    return bool(db.session.scalar(select(exists().where(Visit.template_id == template.id))))


def revisions(code: str) -> list[ChecklistTemplate]:
    return db.session.scalars(select(ChecklistTemplate).where(ChecklistTemplate.code == code)
                              .order_by(ChecklistTemplate.revision.desc())).all()


def _fill_items(template: ChecklistTemplate, items: list[dict]) -> None:
    template.items = [TemplateItem(position=pos, **{k: row.get(k) for k in ITEM_FIELDS})
                      for pos, row in enumerate(items)]
    for item in template.items:
        item.weight = item.weight if item.weight is not None else 1.0
        item.max_points = item.max_points if item.max_points is not None else 10.0
        item.scoring = item.scoring or "pass_fail"


def create_template(user, data: dict) -> ChecklistTemplate:
    _require_admin(user)
    code = (data.get("code") or "").upper()
    if not code:
        raise TemplateError(_("Some fields are not valid."), {"code": [_("This field is required.")]})
    if db.session.scalar(select(exists().where(ChecklistTemplate.code == code))):
        raise TemplateError(_("Some fields are not valid."), {"code": [_("This code is already in use.")]}, 409)
    template = ChecklistTemplate(code=code, revision=1, name=data["name"], name_en=data.get("name_en"),
                                 description=data.get("description"), is_current=True)
    _fill_items(template, data["items"])
    db.session.add(template)
    db.session.flush()
    record_audit(user, "template.created", "template", template.id, {"code": code, "revision": 1})
    return template


def _same_items(template: ChecklistTemplate, items: list[dict]) -> bool:
    old = [tuple(getattr(i, k) for k in ITEM_FIELDS) for i in template.items]
    new = [tuple(row.get(k) for k in ITEM_FIELDS) for row in items]
    return old == new


def edit_template(user, template: ChecklistTemplate, data: dict) -> ChecklistTemplate:
    """Returns the template that now holds the content: the same row, or a new revision."""
    _require_admin(user)
    if not template.is_current:
        raise TemplateError(_("Only the current revision of a template can be edited."), status=409)
    for row in data["items"]:
        row.setdefault("weight", 1.0)
        row.setdefault("max_points", 10.0)
        row.setdefault("scoring", "pass_fail")
        row.setdefault("title_en", None)
        row.setdefault("guidance", None)
    if not is_used(template):
        for name in ("name", "name_en", "description"):
            setattr(template, name, data.get(name))
        if not _same_items(template, data["items"]):
            _fill_items(template, data["items"])
        db.session.flush()
        record_audit(user, "template.edited", "template", template.id,
                     {"code": template.code, "revision": template.revision})
        return template
    latest = max(t.revision for t in revisions(template.code))
    template.is_current = False
    new = ChecklistTemplate(code=template.code, revision=latest + 1, name=data["name"], name_en=data.get("name_en"),
                            description=data.get("description"), is_current=True)
    _fill_items(new, data["items"])
    db.session.add(new)
    db.session.flush()
    record_audit(user, "template.revised", "template", new.id,
                 {"code": new.code, "revision": new.revision, "previous": template.id})
    return new
