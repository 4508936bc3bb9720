"""Input of the calibration page."""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema


class CalibrationArgs(Schema):
    first_visit_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    supervisor_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    scheduled_for = fields.Date(required=True)
    due_by = fields.Date(required=True)
    sample_size = fields.Integer(load_default=5, validate=validate.Range(min=0, max=500))
    note = fields.String(load_default=None, validate=validate.Length(max=2000))

    @validates_schema
    def _window(self, data, **_kw):
        if data.get("scheduled_for") and data.get("due_by") and data["due_by"] < data["scheduled_for"]:
            raise ValidationError(str(_l("The window must end on or after its first day.")), "due_by")


class CalibrationFilterArgs(Schema):
    supervisor_id = fields.String(load_default=None, validate=validate.Length(max=36), data_key="supervisor")
    period = fields.String(load_default=None, validate=validate.Length(max=10))
