"""Input of the supervisor-management pages: profile edits, visit ratings, the period filter."""

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates

from webapp.results.periods import parse_period

SELECTION_SOURCES = ("internal", "external")


class _Args(Schema):
    class Meta:
        unknown = EXCLUDE


class TrainingRecordArgs(_Args):
    date = fields.Date(required=True)
    topic = fields.String(required=True, validate=validate.Length(min=1, max=200))
    hours = fields.Float(load_default=None, validate=validate.Range(
        min=0, max=1000, min_inclusive=False, error=_l("Enter hours between 0 and 1000.")))
    certificate = fields.String(load_default=None, validate=validate.Length(max=200))

    @post_load
    def _json(self, data, **_kw):
        # Stored in a JSON column: dates as ISO strings, empty optionals left out.
        out = {"date": data["date"].isoformat(), "topic": data["topic"]}
        if data.get("hours") is not None:
            out["hours"] = round(data["hours"], 1)
        if data.get("certificate"):
            out["certificate"] = data["certificate"]
        return out


class RecognitionArgs(_Args):
    date = fields.Date(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))

    @post_load
    def _json(self, data, **_kw):
        return {"date": data["date"].isoformat(), "title": data["title"]}


class ProfileArgs(_Args):
    selection_source = fields.String(required=True, validate=validate.OneOf(SELECTION_SOURCES))
    experience_years = fields.Integer(load_default=None, validate=validate.Range(
        min=0, max=60, error=_l("Enter a number of years between 0 and 60.")))
    qualifications = fields.String(load_default=None, validate=validate.Length(max=2000))
    training_records = fields.List(fields.Nested(TrainingRecordArgs), load_default=list,
                                   validate=validate.Length(max=200))
    recognitions = fields.List(fields.Nested(RecognitionArgs), load_default=list,
                               validate=validate.Length(max=200))


class RatingArgs(_Args):
    score = fields.Integer(required=True, validate=validate.Range(
        min=1, max=5, error=_l("Choose a rating from 1 to 5.")))
    comment = fields.String(load_default=None, validate=validate.Length(max=2000))
    teamwork_note = fields.String(load_default=None, validate=validate.Length(max=2000))


class PeriodArgs(_Args):
    period = fields.String(load_default=None, validate=validate.Length(max=10))

    @validates("period")
    def _period(self, value, **_kw):
        if value is None:
            return
        try:
            parse_period(value)
        except ValueError:
            raise ValidationError(str(_l("Enter a period such as 2026-Q4, 2026-11 or 2026."))) from None
