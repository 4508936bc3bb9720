"""What an account may be given: one dict-of-values interface for the form and the Excel import.

Schemas validate and shape, never query: whether a department exists, or a username is taken, is
the operations' question (webapp/users/operations.py)."""

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from webapp.auth.models import ROLES
from webapp.core.text import first_forbidden
from webapp.i18n import SUPPORTED

ROLES_WITH_DEPARTMENT = ("dept_head", "staff")  # as webapp/auth/operations.create_user
FORMULA_START = ("=", "+", "-", "@")  # a spreadsheet would run it (webapp/core/exports.py)


def _plain_text(value: str) -> None:
    if first_forbidden(value) is not None:
        raise ValidationError(str(_l("This text contains a character that cannot be stored (a control character).")))


def _no_formula(value: str) -> None:
    _plain_text(value)
    if value.startswith(FORMULA_START):
        raise ValidationError(str(_l("A name may not start with =, +, - or @ (a spreadsheet would run it).")))


USERNAME = validate.Regexp(r"^[a-z0-9][a-z0-9._@-]{0,79}$", error=_l(
    "Use lower-case letters, digits and . _ @ - only, starting with a letter or digit (at most 80)."))
MOBILE = validate.Regexp(r"^\+?[0-9][0-9 -]{4,30}$", error=_l(
    "Enter a telephone number: digits, spaces and -, optionally starting with +."))


def _display_name(**kw):
    return fields.String(validate=[validate.Length(min=1, max=80, error=_l("Enter a name of at most 80 characters.")),
                                   _no_formula], **kw)


def _role(**kw):
    return fields.String(validate=validate.OneOf(ROLES, error=_l("Choose one of the offered roles.")), **kw)


class _AccountFields(Schema):
    class Meta:
        unknown = EXCLUDE  # a form's submit button or an import's extra column is not an error

    display_name = _display_name()
    role = _role()
    department_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=36))
    department_code = fields.String(load_default=None, allow_none=True,
                                    validate=[validate.Length(max=40), _plain_text])
    email = fields.String(load_default=None, allow_none=True, validate=[
        validate.Length(max=200), validate.Email(error=_l("Enter a valid email address."))])
    mobile = fields.String(load_default=None, allow_none=True, validate=MOBILE)
    locale = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(
        SUPPORTED, error=_l("Choose one of the offered languages.")))

    @pre_load
    def _strip(self, data, **_kw):
        if not isinstance(data, dict):
            raise ValidationError(str(_l("Expected a set of named values.")))
        out = {}
        for key, value in data.items():
            if isinstance(value, str):
                value = value.strip()
                if value == "" and key not in ("display_name", "role", "username"):
                    value = None
            out[key] = value
        return out

    @validates_schema
    def _department_for_role(self, data, partial=None, **_kw):
        role = data.get("role")
        has_dept = data.get("department_id") or data.get("department_code")
        if role in ROLES_WITH_DEPARTMENT and not has_dept and not partial:
            raise ValidationError(str(_l("A department head or a staff member needs a department.")),
                                  "department_id")


class AccountArgs(_AccountFields):
    """A new account: username, name and role required."""

    username = fields.String(required=True, validate=USERNAME)
    display_name = _display_name(required=True)
    role = _role(required=True)

    @pre_load
    def _lower_username(self, data, **_kw):
        if isinstance(data, dict) and isinstance(data.get("username"), str):
            data = {**data, "username": data["username"].strip().lower()}
        return data


class AccountUpdateArgs(_AccountFields):
    """Changes to an account: any of the fields; a field left out stays as it is."""


class ApprovalArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    role = _role(required=True)
    department_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=36))

    @pre_load
    def _blank(self, data, **_kw):
        if isinstance(data, dict) and data.get("department_id") == "":
            data = {**data, "department_id": None}
        return data

    @validates_schema
    def _department_for_role(self, data, **_kw):
        if data.get("role") in ROLES_WITH_DEPARTMENT and not data.get("department_id"):
            raise ValidationError(str(_l("A department head or a staff member needs a department.")),
                                  "department_id")


class UserListArgs(Schema):
    """The list's query string; anything unknown or malformed is ignored, not an error."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=100))
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))
    department_id = fields.String(load_default=None, validate=validate.Length(max=36))
    status = fields.String(load_default=None, validate=validate.OneOf(
        ("active", "disabled", "pending", "must_change")))
    sort = fields.String(load_default="name", validate=validate.OneOf(("name", "-name")))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
