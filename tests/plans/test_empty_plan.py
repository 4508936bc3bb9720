"""A plan that schedules no visits cannot be submitted, approved or published (issue #19 item 7):
the refusal is in the workflow operation, so the web page and every other caller get it; a plan is
not a record a phone can send."""

from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from
from tests.sync.conftest import Device, new_id
from webapp.extensions import db
from webapp.plans.models import Plan
from webapp.plans.operations import PlanError, add_scheduled_visit, create_plan, transition_plan

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def empty_plan(world, plan_data):
    plan = create_plan(world["users"]["sup1"], plan_data())
    db.session.commit()
    return plan


@pytest.mark.parametrize("status", ["draft", "submitted", "approved"])
def test_the_operation_refuses_every_step_towards_publishing(app, world, empty_plan, status):
    """Whatever the status it reached (by an older rule, or an import), the next step is refused."""
    empty_plan.status = status
    db.session.commit()
    to = {"draft": "submitted", "submitted": "approved", "approved": "published"}[status]
    who = world["users"]["sup1" if to == "submitted" else "manager"]
    with app.test_request_context(headers=EN):
        with pytest.raises(PlanError, match="schedules no visits"):
            transition_plan(who, empty_plan, to)
    db.session.rollback()
    assert db.session.get(Plan, empty_plan.id).status == status


def test_returning_and_closing_an_empty_plan_stay_possible(app, world, empty_plan):
    empty_plan.status = "submitted"
    db.session.commit()
    with app.test_request_context(headers=EN):
        transition_plan(world["users"]["manager"], empty_plan, "returned", "加上时间安排")
    assert empty_plan.status == "returned"


def test_the_web_page_refuses_with_a_clear_message_in_both_languages(client, auth, world, empty_plan):
    auth.login("sup1")
    url = f"/plans/{empty_plan.id}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    en = client.post(f"{url}/transition", data={"csrf_token": token, "to": "submitted"}, headers=EN)
    assert en.status_code == 400 and "This plan schedules no visits" in en.get_data(as_text=True)
    zh = client.post(f"{url}/transition", data={"csrf_token": token, "to": "submitted"}, headers=ZH)
    assert zh.status_code == 400 and "此计划没有安排任何督导" in zh.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Plan, empty_plan.id).status == "draft"


def test_a_plan_with_a_scheduled_visit_goes_through(app, world, empty_plan, create_template):
    sup1, manager = world["users"]["sup1"], world["users"]["manager"]
    with app.test_request_context(headers=EN):
        add_scheduled_visit(sup1, empty_plan, {"site_id": world["sites"][0].id, "window_start": date(2026, 2, 3),
                                               "window_end": date(2026, 2, 7), "supervisor_ids": [sup1.id],
                                               "template_id": create_template("EMPTY").id, "note": None})
        for to, who in (("submitted", sup1), ("approved", manager), ("published", manager)):
            transition_plan(who, empty_plan, to)
    assert empty_plan.status == "published" and len(empty_plan.visits) == 1


def test_a_framework_plan_passes_through_its_sub_plans(client, auth, app, world, plan_data, create_template):
    """An annual plan frames quarterly ones: it has no schedule of its own, its sub-plan has visits.
    Publishing it says where its visits are, and promises nothing on phones."""
    sup1, manager = world["users"]["sup1"], world["users"]["manager"]
    with app.test_request_context(headers=EN):
        annual = create_plan(sup1, plan_data(title="年度计划", period_type="annual", period_end=date(2026, 12, 31)))
        quarterly = create_plan(sup1, plan_data(parent_id=annual.id))
        with pytest.raises(PlanError):  # the sub-plan has no visits yet either
            transition_plan(sup1, annual, "submitted")
        add_scheduled_visit(sup1, quarterly, {"site_id": world["sites"][0].id, "window_start": date(2026, 2, 3),
                                              "window_end": date(2026, 2, 7), "supervisor_ids": [sup1.id],
                                              "template_id": create_template("FRAME").id, "note": None})
        transition_plan(sup1, annual, "submitted")
        transition_plan(manager, annual, "approved")
    db.session.commit()
    auth.login("manager")
    url = f"/plans/{annual.id}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    r = client.post(f"{url}/transition", data={"csrf_token": token, "to": "published"}, headers=EN)
    assert r.status_code == 302
    page = client.get(r.location, headers=EN).get_data(as_text=True)
    assert "Its visits are scheduled in its sub-plans." in page
    assert "reach the supervisors' phones" not in page


def test_a_phone_cannot_send_a_plan(client, world, empty_plan):
    phone = Device(client, world["users"]["sup1"])
    res = phone.push_one("plan", empty_plan.id, {"status": "published"}, base_version=1)
    assert res["status"] == "rejected"
    res = phone.push_one("plan", new_id(), {"title": "空计划", "status": "published"})
    assert res["status"] == "rejected"
    db.session.rollback()
    assert db.session.get(Plan, empty_plan.id).status == "draft"
    assert db.session.scalar(select(Plan).where(Plan.title == "空计划")) is None
