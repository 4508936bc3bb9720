"""Input of the warnings pages."""

from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

TABS = ("open", "acknowledged", "snoozed", "closed")


class _Args(Schema):
    class Meta:
        unknown = EXCLUDE


class WarningListArgs(_Args):
    status = fields.String(load_default="open", validate=validate.OneOf(TABS))


class WarningRuleArgs(_Args):
    threshold = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=0, max=100000))
    active = fields.Boolean(load_default=False)
    # the rule's extra setting in days (window or grace), for the kinds that have one; range checked
    # per kind by the operation
    setting = fields.Integer(load_default=None, validate=validate.Range(min=0, max=100000))


class SnoozeArgs(_Args):
    """Snooze for `days` (7, 14, 30) or until a date; a reason always. Length is checked here (a
    10,000-character reason is a 400, not a stored essay)."""

    days = fields.Integer(load_default=None, validate=validate.OneOf((7, 14, 30)))
    until = fields.Date(load_default=None)
    reason = fields.String(load_default=None, validate=validate.Length(max=1000))

    @validates_schema
    def _complete(self, data, **_kw):
        errors = {}
        if data.get("days") is None and data.get("until") is None:
            errors["until"] = [_("Choose for how long, or a date.")]
        if not (data.get("reason") or "").strip():
            errors["reason"] = [_("Say why the warning is snoozed.")]
        if errors:
            raise ValidationError(errors)


class WarningSchema(Schema):
    """Dump: a warning with its stored figures."""

    id = fields.String()
    kind = fields.String()
    subject_type = fields.String()
    subject_id = fields.String()
    problem_key = fields.String()
    params = fields.Dict()
    status = fields.String()
    occurrences = fields.Integer()
    last_seen_on = fields.Date()
    snoozed_until = fields.Date()
    created_at = fields.DateTime()
    acknowledged_at = fields.DateTime()
    closed_at = fields.DateTime()
