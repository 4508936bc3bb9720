from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from webapp.checklists.models import AREAS, SCORING


class TemplateItemArgs(Schema):
    id = fields.String(load_default=None, validate=validate.Length(max=36))
    area = fields.String(required=True, validate=validate.OneOf(AREAS))
    code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    title_en = fields.String(load_default=None, validate=validate.Length(max=200))
    guidance = fields.String(load_default=None, validate=validate.Length(max=5000))
    weight = fields.Float(load_default=1.0, validate=validate.Range(min=0, max=100, min_inclusive=False))
    scoring = fields.String(load_default="pass_fail", validate=validate.OneOf(SCORING))
    max_points = fields.Float(load_default=10.0, validate=validate.Range(min=0, max=1000, min_inclusive=False))
    photo_required_on_fail = fields.Boolean(load_default=False)


class TemplateArgs(Schema):
    code = fields.String(load_default=None, validate=validate.Regexp(
        r"^[A-Za-z0-9_-]{1,40}$", error=_l("Use letters, digits, - and _ only (at most 40).")))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    name_en = fields.String(load_default=None, validate=validate.Length(max=120))
    description = fields.String(load_default=None, validate=validate.Length(max=5000))
    items = fields.List(fields.Nested(TemplateItemArgs), load_default=list)

    @validates_schema
    def _unique_codes(self, data, **_kw):
        codes = [i["code"] for i in data.get("items", [])]
        if len(codes) != len(set(codes)):
            raise ValidationError(str(_l("Each item needs its own code.")), "items")
        if not codes:
            raise ValidationError(str(_l("A template needs at least one item.")), "items")


def items_from_form(form) -> list[dict]:
    """Rows named items-<n>-<field> → a list of dicts in row order; rows left blank or marked
    for removal are dropped."""
    rows: dict[int, dict] = {}
    for key in form:
        if not key.startswith("items-"):
            continue
        _, n, name = key.split("-", 2)
        if not n.isdigit():
            continue
        value = form.get(key, "").strip()
        if value != "":
            rows.setdefault(int(n), {})[name] = value
    out = []
    for n in sorted(rows):
        row = rows[n]
        if row.pop("remove", None) or not (row.get("code") or row.get("title")):
            continue
        row["photo_required_on_fail"] = row.get("photo_required_on_fail") in ("1", "on", "true", "y")
        out.append(row)
    return out
