"""Input of the warnings pages."""

from marshmallow import EXCLUDE, Schema, fields, validate

TABS = ("open", "acknowledged", "closed")


class _Args(Schema):
    class Meta:
        unknown = EXCLUDE


class WarningListArgs(_Args):
    status = fields.String(load_default="open", validate=validate.OneOf(TABS))


class WarningRuleArgs(_Args):
    threshold = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=0, max=100000))
    active = fields.Boolean(load_default=False)


class WarningSchema(Schema):
    """Dump: a warning with its stored figures."""

    id = fields.String()
    kind = fields.String()
    subject_type = fields.String()
    subject_id = fields.String()
    params = fields.Dict()
    status = fields.String()
    created_at = fields.DateTime()
    acknowledged_at = fields.DateTime()
    closed_at = fields.DateTime()
