"""A user row of the import (departments, sites and templates use their own packages' schemas)."""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from webapp.auth.models import ROLES
from webapp.i18n import SUPPORTED


class UserRowArgs(Schema):
    username = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z0-9][a-z0-9_.@-]{1,79}$",
        error=_l("Use lower-case letters, digits, '.', '@', - and _ only (2 to 80).")))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    department_id = fields.String(load_default=None)
    email = fields.String(load_default=None, validate=[
        validate.Length(max=200), validate.Email(error=_l("Enter a valid email address."))])
    mobile = fields.String(load_default=None, validate=validate.Regexp(
        r"^\+?[0-9][0-9 -]{4,30}$", error=_l("Enter a phone number: digits, spaces and - only.")))
    locale = fields.String(load_default=None, validate=validate.OneOf(SUPPORTED))
