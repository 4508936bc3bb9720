"""Input of the training pages (validated and shaped; references are checked by the operations)."""

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates

from webapp.checklists.models import AREAS
from webapp.results.periods import parse_period

STATUSES = ("planned", "held", "cancelled")


class _Args(Schema):
    class Meta:
        unknown = EXCLUDE


class NeedsArgs(_Args):
    period = fields.String(load_default=None, validate=validate.Length(max=10))
    min_departments = fields.Integer(load_default=2, validate=validate.Range(min=1, max=100))

    @validates("period")
    def _period(self, value, **_kw):
        if value:
            try:
                parse_period(value)
            except ValueError:
                from flask_babel import gettext as _

                raise ValidationError(_("Enter a period like 2026-Q2, 2026-05 or 2026.")) from None


class TrainingPlanArgs(_Args):
    topic = fields.String(required=True, validate=validate.Length(min=1, max=200))
    audience = fields.String(load_default=None, validate=validate.Length(max=2000))
    held_on = fields.Date(load_default=None)
    trainer = fields.String(load_default=None, validate=validate.Length(max=80))
    area = fields.String(load_default=None, validate=validate.OneOf(AREAS))
    item_id = fields.String(load_default=None, validate=validate.Length(max=36))
    status = fields.String(load_default="planned", validate=validate.OneOf(STATUSES))


class PrefillArgs(_Args):
    """A training plan started from a training need."""

    topic = fields.String(load_default=None, validate=validate.Length(max=200))
    area = fields.String(load_default=None, validate=validate.OneOf(AREAS))
    item_id = fields.String(load_default=None, validate=validate.Length(max=36))
    audience = fields.String(load_default=None, validate=validate.Length(max=2000))


class AttendanceArgs(_Args):
    person_ids = fields.List(fields.String(validate=validate.Length(max=36)), load_default=list)
    attended_ids = fields.List(fields.String(validate=validate.Length(max=36)), load_default=list)

    @post_load
    def _dedupe(self, data, **_kw):
        data["person_ids"] = list(dict.fromkeys(data["person_ids"]))
        data["attended_ids"] = list(dict.fromkeys(data["attended_ids"]))
        return data


class NoteArgs(_Args):
    note = fields.String(required=True, validate=validate.Length(min=1, max=10000))


class TrainingPlanSchema(Schema):
    """Dump: a training plan."""

    id = fields.String()
    topic = fields.String()
    audience = fields.String()
    held_on = fields.Date()
    trainer = fields.String()
    area = fields.String()
    item_id = fields.String()
    status = fields.String()
