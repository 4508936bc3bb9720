"""What a department or a site may hold, for the organisation pages and the Excel import alike."""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from webapp.core.text import first_forbidden
from webapp.org.models import DEPARTMENT_KINDS

CODE = validate.Regexp(r"^[A-Za-z0-9_.-]{1,40}$", error=_l("Use letters, digits, '.', - and _ only (at most 40)."))
# \w: a company's own classes may be Chinese (一类, 旗舰).
SITE_CLASS = validate.Regexp(r"^[\w-]{1,20}$",
                             error=_l("Use letters, digits, - and _ only (at most 20), e.g. A, B or C."))
FORMULA_START = ("=", "+", "-", "@")


def plain_text(multiline: bool = False):
    """A name or an address as a person types it: no control characters (the Excel import does not
    pass through the request's cleaning), no line break in a one-line name, and no leading = + - @
    that a spreadsheet would run as a formula (=HYPERLINK(...)) when the list is exported."""

    def check(value: str) -> None:
        if first_forbidden(value) is not None or (not multiline and ("\n" in value or "\r" in value or "\t" in value)):
            raise ValidationError(str(_l("Remove the control characters and line breaks from this text.")))
        if value.lstrip().startswith(FORMULA_START):
            raise ValidationError(str(_l("Do not start this text with = + - or @.")))

    return check


class DepartmentArgs(Schema):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=[validate.Length(min=1, max=120), plain_text()])
    name_en = fields.String(load_default=None, validate=[validate.Length(max=120), plain_text()])
    kind = fields.String(load_default="department", validate=validate.OneOf(DEPARTMENT_KINDS))
    parent_id = fields.String(load_default=None, validate=validate.Length(max=36))


class SiteArgs(Schema):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=[validate.Length(min=1, max=120), plain_text()])
    name_en = fields.String(load_default=None, validate=[validate.Length(max=120), plain_text()])
    department_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    address = fields.String(load_default=None, validate=[validate.Length(max=500), plain_text(multiline=True)])
    lat = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(min=-90, max=90))
    lng = fields.Float(load_default=None, allow_nan=False, validate=validate.Range(min=-180, max=180))
    geofence_radius_m = fields.Integer(load_default=200, validate=validate.Range(min=10, max=50_000))
    site_class = fields.String(load_default=None, validate=SITE_CLASS)
    manager_person_id = fields.String(load_default=None, validate=validate.Length(max=36))

    @validates_schema
    def _both_coordinates(self, data, **_kw):
        if (data.get("lat") is None) != (data.get("lng") is None):
            raise ValidationError(str(_l("Give both latitude and longitude, or neither.")),
                                  "lng" if data.get("lng") is None else "lat")
