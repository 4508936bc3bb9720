from datetime import date

import pytest

from webapp.extensions import db
from webapp.plans.operations import add_scheduled_visit, create_plan


@pytest.fixture
def plan_data():
    def make(**kw):
        year = date.today().year
        data = {"title": "季度计划", "period_type": "quarterly", "year": year, "number": 1, "parent_id": None,
                "period_start": date(year, 1, 1), "period_end": date(year, 3, 31), "goals": "覆盖全部场所",
                "focus_areas": ["service", "risk"], "focus_notes": None, "methods": "现场检查",
                "staffing": None, "department_ids": [], "site_ids": []}
        data.update(kw)
        return data

    return make


@pytest.fixture
def draft_plan(world, plan_data, create_template):
    """A draft by sup1 with one scheduled visit at S1 assigned to sup1."""
    sup1 = world["users"]["sup1"]
    plan = create_plan(sup1, plan_data())
    tpl = create_template("PLANTPL")
    year = plan.period_start.year
    add_scheduled_visit(sup1, plan, {"site_id": world["sites"][0].id, "window_start": date(year, 2, 3),
                                     "window_end": date(year, 2, 7), "supervisor_ids": [sup1.id],
                                     "template_id": tpl.id, "note": "带上期整改清单"})
    db.session.commit()
    return plan


@pytest.fixture
def request_ctx(app):
    """Operations speak the user's language, so they run inside a request, as in production."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield
