from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from webapp.checklists.models import AREAS
from webapp.core.formdata import filter_args
from webapp.findings.models import FINDING_STATUSES, SEVERITIES

# due / on_time: the on-time rectification rate's denominator / numerator;
# decided / first_round: the first-round acceptance rate's denominator / numerator.
RECTIFICATION_OUTCOMES = ("due", "on_time", "decided", "first_round")


class _Args(Schema):
    class Meta:
        unknown = EXCLUDE


class FindingListArgs(_Args):
    q = fields.String(load_default=None, validate=validate.Length(max=100))
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
    department_id = fields.String(load_default=None, validate=validate.Length(max=36))
    site_id = fields.String(load_default=None, validate=validate.Length(max=36))
    area = fields.String(load_default=None, validate=validate.OneOf(AREAS))
    item_id = fields.String(load_default=None, validate=validate.Length(max=36))
    severity = fields.String(load_default=None, validate=validate.OneOf(SEVERITIES))
    # This severity or worse (the dashboard's "high + critical" share drills down with min_severity=high).
    min_severity = fields.String(load_default=None, validate=validate.OneOf(SEVERITIES))
    status = fields.String(load_default=None, validate=validate.OneOf(FINDING_STATUSES))
    supervisor_id = fields.String(load_default=None, validate=validate.Length(max=36))
    overdue = fields.Boolean(load_default=False)
    conflict = fields.Boolean(load_default=False)
    repeat = fields.Boolean(load_default=False)
    # How the rectification stands (webapp/rectification/outcomes.py): the sets the dashboard's rates count.
    rectification = fields.String(load_default=None, validate=validate.OneOf(RECTIFICATION_OUTCOMES))
    cursor = fields.String(load_default=None, validate=validate.Length(max=80))


class CommentArgs(_Args):
    body = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class AssignArgs(_Args):
    ids = fields.List(fields.String(validate=validate.Length(max=36)), required=True,
                      validate=validate.Length(min=1, max=500))
    department_id = fields.String(load_default=None, validate=validate.Length(max=36))
    responsible_person = fields.String(load_default=None, validate=validate.Length(max=80))


def list_args(multidict) -> dict:
    return filter_args(FindingListArgs(), multidict)


class ReviewText(fields.String):
    """User text of a review: control characters refused (NUL above all, webapp/core/text.py)."""

    def _deserialize(self, value, attr, data, **kwargs):
        from flask_babel import gettext as _

        from webapp.core.text import first_forbidden

        value = super()._deserialize(value, attr, data, **kwargs)
        if first_forbidden(value) is not None:
            raise ValidationError(_("This text contains a character that cannot be stored."))
        return value


class ReviewArgs(_Args):
    reason = ReviewText(load_default=None, validate=validate.Length(max=2000))


class CorrectArgs(ReviewArgs):
    title = ReviewText(validate=validate.Length(min=1, max=200))
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    area = fields.String(allow_none=True, validate=validate.OneOf(AREAS))
    item_id = fields.String(allow_none=True, validate=validate.Length(max=36))
    description = ReviewText(allow_none=True, validate=validate.Length(max=20000))
    impact = ReviewText(allow_none=True, validate=validate.Length(max=20000))


class MergeArgs(ReviewArgs):
    into_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class QueueArgs(_Args):
    review = fields.String(load_default="pending", validate=validate.OneOf(("pending", "confirmed", "rejected",
                                                                            "merged")))
    site_id = fields.String(load_default=None, validate=validate.Length(max=36))
    supervisor_id = fields.String(load_default=None, validate=validate.Length(max=36))
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
    cursor = fields.String(load_default=None, validate=validate.Length(max=80))  # "Load more": after this row


def queue_args(multidict) -> dict:
    return filter_args(QueueArgs(), multidict)
