from marshmallow import EXCLUDE, Schema, fields, validate


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
