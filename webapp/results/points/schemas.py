"""Input of the points pages. Schemas validate and shape; the database checks (unique rule code, scope)
are the operations' and views'."""

from flask_babel import lazy_gettext as _l
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from webapp.findings.models import SEVERITIES
from webapp.results.models import POINT_TRIGGERS
from webapp.results.points.operations import APPEAL_RESULTS, ENTRY_STATUSES, TARGETS


class _Args(Schema):
    class Meta:
        unknown = EXCLUDE


class RuleArgs(_Args):
    code = fields.String(required=True, validate=[
        validate.Length(min=1, max=40),
        validate.Regexp(r"^[A-Za-z0-9_-]+$", error=_l("Use letters, digits, - and _ only."))])
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    trigger = fields.String(required=True, validate=validate.OneOf(POINT_TRIGGERS))
    severity = fields.String(load_default=None, validate=validate.OneOf(SEVERITIES))
    points = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=-1000, max=1000),
                          error_messages={"special": _l("Enter a number.")})
    applies_to = fields.String(load_default="department", validate=validate.OneOf(TARGETS))
    active = fields.Boolean(load_default=False)

    @validates("points")
    def _not_zero(self, value, **_kw):
        if value == 0:
            raise ValidationError(str(_l("Points must not be zero: positive is a bonus, negative a deduction.")))

    @validates_schema(skip_on_field_errors=False)
    def _severity(self, data, **_kw):
        if data.get("trigger") == "finding_severity" and not data.get("severity"):
            raise ValidationError(str(_l("Choose the severity this rule applies to.")), "severity")

    @post_load
    def _shape(self, data, **_kw):
        data["code"] = data["code"].strip().upper()
        data["name"] = data["name"].strip()
        if data["trigger"] != "finding_severity":
            data["severity"] = None  # only severity rules have one
        return data


class LedgerArgs(_Args):
    period = fields.String(load_default=None, validate=validate.Length(max=10))
    department_id = fields.String(load_default=None, validate=validate.Length(max=36))
    status = fields.String(load_default=None, validate=validate.OneOf(ENTRY_STATUSES))


class PostArgs(_Args):
    period = fields.String(required=True, validate=validate.Length(min=1, max=10))


class AppealArgs(_Args):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class DecisionArgs(_Args):
    result = fields.String(required=True, validate=validate.OneOf(APPEAL_RESULTS))
    decision_note = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class AppealListArgs(_Args):
    status = fields.String(load_default=None, validate=validate.OneOf(("pending", "upheld", "rejected")))
