"""Input of the planning pages. Schemas validate and shape; references (sites, people, templates)
are checked by the operations, which have the database."""

import calendar
from datetime import date

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from webapp.checklists.models import AREAS
from webapp.plans.models import NOTE_KINDS, PERIOD_TYPES, PLAN_STATUSES, RECURRENCE_INTERVALS


def period_bounds(period_type: str, year: int, number: int | None) -> tuple[date, date]:
    """First and last day of an annual (number ignored), quarterly (1–4) or monthly (1–12) period."""
    if period_type == "annual":
        return date(year, 1, 1), date(year, 12, 31)
    if period_type == "quarterly":
        first = 3 * number - 2
        return date(year, first, 1), date(year, first + 2, calendar.monthrange(year, first + 2)[1])
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def period_of(start: date, period_type: str) -> tuple[int, int | None]:
    if period_type == "annual":
        return start.year, None
    if period_type == "quarterly":
        return start.year, (start.month - 1) // 3 + 1
    return start.year, start.month


class PlanArgs(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    period_type = fields.String(required=True, validate=validate.OneOf(PERIOD_TYPES))
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    quarter = fields.Integer(load_default=None, validate=validate.Range(min=1, max=4))
    month = fields.Integer(load_default=None, validate=validate.Range(min=1, max=12))
    parent_id = fields.String(load_default=None, validate=validate.Length(max=36))
    goals = fields.String(load_default=None, validate=validate.Length(max=10000))
    focus_areas = fields.List(fields.String(validate=validate.OneOf(AREAS)), load_default=list)
    focus_notes = fields.String(load_default=None, validate=validate.Length(max=10000))
    methods = fields.String(load_default=None, validate=validate.Length(max=10000))
    staffing = fields.String(load_default=None, validate=validate.Length(max=10000))
    department_ids = fields.List(fields.String(validate=validate.Length(max=36)), load_default=list)
    site_ids = fields.List(fields.String(validate=validate.Length(max=36)), load_default=list)

    @validates_schema
    def _period_number(self, data, **_kw):
        kind = data.get("period_type")
        if kind == "quarterly" and not data.get("quarter"):
            raise ValidationError(str(_l("Choose the quarter.")), "quarter")
        if kind == "monthly" and not data.get("month"):
            raise ValidationError(str(_l("Choose the month.")), "month")

    @post_load
    def _bounds(self, data, **_kw):
        number = {"quarterly": data.get("quarter"), "monthly": data.get("month")}.get(data["period_type"])
        data["period_start"], data["period_end"] = period_bounds(data["period_type"], data["year"], number)
        data["focus_areas"] = [a for a in AREAS if a in set(data["focus_areas"])]
        return data


class ScheduledVisitArgs(Schema):
    site_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    window_start = fields.Date(required=True)
    window_end = fields.Date(required=True)
    supervisor_ids = fields.List(fields.String(validate=validate.Length(max=36)), required=True,
                                 validate=validate.Length(min=1, error=_l("Assign at least one supervisor.")))
    template_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    note = fields.String(load_default=None, validate=validate.Length(max=2000))

    @validates_schema
    def _window(self, data, **_kw):
        if data.get("window_start") and data.get("window_end") and data["window_end"] < data["window_start"]:
            raise ValidationError(str(_l("The window must end on or after its first day.")), "window_end")


class TransitionArgs(Schema):
    to = fields.String(required=True, validate=validate.OneOf(PLAN_STATUSES))
    comment = fields.String(load_default=None, validate=validate.Length(max=5000))


class PlanNoteArgs(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(NOTE_KINDS))
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))


class PlanFilterArgs(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(PLAN_STATUSES))
    period_type = fields.String(load_default=None, validate=validate.OneOf(PERIOD_TYPES))


class CalendarArgs(Schema):
    view = fields.String(load_default="month", validate=validate.OneOf(("month", "week")))
    day = fields.Date(load_default=None, data_key="date")
    supervisor_id = fields.String(load_default=None, validate=validate.Length(max=36), data_key="supervisor")
    department_id = fields.String(load_default=None, validate=validate.Length(max=36), data_key="department")


# ---- recurring visits --------------------------------------------------------------------------

class RecurrenceRuleArgs(Schema):
    department_id = fields.String(load_default=None, validate=validate.Length(max=36))
    site_class = fields.String(required=True, validate=validate.Length(min=1, max=20))
    interval_months = fields.Integer(required=True, validate=validate.OneOf(RECURRENCE_INTERVALS))
    template_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class RuleDeleteArgs(Schema):
    rule_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class GenerationArgs(Schema):
    month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"))
    department_id = fields.String(load_default=None, validate=validate.Length(max=36), data_key="department")

    @post_load
    def _month(self, data, **_kw):
        year, month = data["month"].split("-")
        data["month"] = date(int(year), int(month), 1)
        return data


class MissedArgs(Schema):
    period = fields.String(load_default=None, validate=validate.Length(max=10))
    department_id = fields.String(load_default=None, validate=validate.Length(max=36), data_key="department")
    supervisor_id = fields.String(load_default=None, validate=validate.Length(max=36), data_key="supervisor")
