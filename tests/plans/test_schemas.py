from datetime import date

import pytest
from marshmallow import ValidationError

from webapp.plans.schemas import PlanArgs, ScheduledVisitArgs, period_bounds


@pytest.mark.parametrize(("kind", "number", "start", "end"), [
    ("annual", None, date(2028, 1, 1), date(2028, 12, 31)),
    ("quarterly", 1, date(2028, 1, 1), date(2028, 3, 31)),
    ("quarterly", 4, date(2028, 10, 1), date(2028, 12, 31)),
    ("monthly", 2, date(2028, 2, 1), date(2028, 2, 29)),  # leap year
    ("monthly", 12, date(2027, 12, 1), date(2027, 12, 31)),
])
def test_period_bounds(kind, number, start, end):
    assert period_bounds(kind, start.year, number) == (start, end)


def test_plan_args_compute_the_period_and_order_areas(app):
    with app.test_request_context():
        data = PlanArgs().load({"title": "t", "period_type": "monthly", "year": "2027", "month": "6",
                                "quarter": "1", "focus_areas": ["risk", "process"]})
    assert (data["period_start"], data["period_end"]) == (date(2027, 6, 1), date(2027, 6, 30))
    assert data["focus_areas"] == ["process", "risk"]


@pytest.mark.parametrize(("payload", "field"), [
    ({"period_type": "quarterly"}, "quarter"),
    ({"period_type": "monthly"}, "month"),
    ({"period_type": "weekly"}, "period_type"),
    ({"period_type": "annual", "focus_areas": ["cooking"]}, "focus_areas"),
])
def test_plan_args_errors(app, payload, field):
    with app.test_request_context(), pytest.raises(ValidationError) as e:
        PlanArgs().load({"title": "t", "year": "2027", **payload})
    assert field in e.value.messages


def test_schedule_window_must_not_end_before_it_starts(app):
    with app.test_request_context(), pytest.raises(ValidationError) as e:
        ScheduledVisitArgs().load({"site_id": "s", "template_id": "t", "supervisor_ids": ["u"],
                                   "window_start": "2027-03-05", "window_end": "2027-03-01"})
    assert "window_end" in e.value.messages
    with app.test_request_context(), pytest.raises(ValidationError) as e:
        ScheduledVisitArgs().load({"site_id": "s", "template_id": "t", "supervisor_ids": [],
                                   "window_start": "2027-03-01", "window_end": "2027-03-01"})
    assert "supervisor_ids" in e.value.messages
