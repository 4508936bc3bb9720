"""Input of the evaluation pages."""

from marshmallow import EXCLUDE, Schema, fields, validate


class EvaluationArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    lessons = fields.String(load_default=None, validate=validate.Length(max=10000))
    went_well = fields.String(load_default=None, validate=validate.Length(max=10000))
    went_badly = fields.String(load_default=None, validate=validate.Length(max=10000))
    suggestions = fields.String(load_default=None, validate=validate.Length(max=10000))
