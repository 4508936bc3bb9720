from flask import current_app
from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates


class _Args(Schema):
    class Meta:
        unknown = EXCLUDE


class ReportEditArgs(_Args):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    plan_execution = fields.String(load_default="", validate=validate.Length(max=20000))
    highlights = fields.String(load_default="", validate=validate.Length(max=20000))
    problems = fields.String(load_default="", validate=validate.Length(max=20000))
    analysis = fields.String(load_default="", validate=validate.Length(max=20000))
    recommendations = fields.String(load_default="", validate=validate.Length(max=20000))
    refresh_scores = fields.Boolean(load_default=False)


class ReviewArgs(_Args):
    comment = fields.String(load_default=None, validate=validate.Length(max=4000))


class CommunicationNoteArgs(_Args):
    held_on = fields.Date(required=True)
    attendees = fields.String(load_default="", validate=validate.Length(max=2000))
    causes = fields.String(load_default=None, validate=validate.Length(max=8000))
    solutions = fields.String(load_default=None, validate=validate.Length(max=8000))


class NewReportArgs(_Args):
    visit_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class ReportIndexArgs(_Args):
    status = fields.String(load_default=None)


class ShareArgs(_Args):
    expires_in_days = fields.Integer(load_default=None)

    @validates("expires_in_days")
    def _within_limit(self, value, **_kw):
        longest = current_app.config["SHARE_LINK_MAX_DAYS"]
        if value is not None and not 1 <= value <= longest:
            raise ValidationError(_("A share link works for 1 to %(n)d days.", n=longest))
