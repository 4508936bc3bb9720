"""Input of the policy log pages."""

from marshmallow import EXCLUDE, Schema, fields, validate

from webapp.results.policy.operations import SOURCE_TYPES, STATUSES


class _Args(Schema):
    class Meta:
        unknown = EXCLUDE


class SuggestionArgs(_Args):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(load_default=None, validate=validate.Length(max=10000))
    source_type = fields.String(load_default=None, validate=validate.OneOf(SOURCE_TYPES))
    source_id = fields.String(load_default=None, validate=validate.Length(max=40))
    owner_id = fields.String(load_default=None, validate=validate.Length(max=36))


class SuggestionTransitionArgs(_Args):
    to = fields.String(required=True, validate=validate.OneOf(STATUSES))
    comment = fields.String(load_default=None, validate=validate.Length(max=4000))


class SuggestionFilterArgs(_Args):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    source_type = fields.String(load_default=None, validate=validate.OneOf(SOURCE_TYPES))


class SourceArgs(_Args):
    """?source_type=&source_id= on the "new" page: the record the suggestion comes from."""
    source_type = fields.String(load_default=None, validate=validate.OneOf(SOURCE_TYPES))
    source_id = fields.String(load_default=None, validate=validate.Length(max=40))
