"""Completing a visit with unanswered items (issue #18, "a faster visit"): one rule for the desk and
the phone's push (webapp/visits/completion.py) — the template says whether a reason is needed — and
the desk shows the reason."""

import pytest
from sqlalchemy import select

from tests.review_helpers import post
from tests.sync.conftest import new_id
from webapp.checklists.models import ChecklistTemplate, TemplateItem
from webapp.extensions import db
from webapp.visits.models import ChecklistAnswer, Visit


def _items(visit):
    return db.session.scalars(select(TemplateItem).where(TemplateItem.template_id == visit.template_id)
                              .order_by(TemplateItem.position)).all()


def _answer(visit, item, result="pass"):
    db.session.add(ChecklistAnswer(visit_id=visit.id, item_id=item.id, result=result))
    db.session.commit()


# -- the desk --

def test_the_desk_refuses_a_completion_without_a_reason(client, auth, world):
    v1 = world["visits"][0]
    auth.login("sup1")
    page = client.get(f"/visits/{v1.id}").get_data(as_text=True)
    assert 'name="completion_reason"' in page and "2 个检查项尚未作答" in page
    r = post(client, f"/visits/{v1.id}/complete", {"completion_reason": "  "}, follow_redirects=True)
    assert "请说明为何在未作答的情况下完成督导" in r.get_data(as_text=True)
    assert db.session.get(Visit, v1.id).status == "scheduled"


def test_the_desk_completes_with_a_reason_and_shows_it(client, auth, world):
    v1 = world["visits"][0]
    _answer(v1, _items(v1)[0])
    auth.login("sup1")
    r = post(client, f"/visits/{v1.id}/complete", {"completion_reason": "仓库停电，无法检查风险项"})
    assert r.status_code == 303
    visit = db.session.get(Visit, v1.id)
    assert visit.status == "completed" and visit.completed_at is not None
    assert visit.completion_reason == "仓库停电，无法检查风险项"
    auth.logout()
    auth.login("manager")
    page = client.get(f"/visits/{v1.id}").get_data(as_text=True)
    assert "有未作答检查项的完成" in page and "仓库停电，无法检查风险项" in page
    assert "1 个检查项未作答。" in page


def test_all_answered_needs_no_reason_and_keeps_none(client, auth, world):
    v1 = world["visits"][0]
    for item in _items(v1):
        _answer(v1, item)
    auth.login("sup1")
    assert 'name="completion_reason"' not in client.get(f"/visits/{v1.id}").get_data(as_text=True)
    assert post(client, f"/visits/{v1.id}/complete", {"completion_reason": "多余的话"}).status_code == 303
    visit = db.session.get(Visit, v1.id)
    assert visit.status == "completed" and visit.completion_reason is None


def test_a_template_without_the_rule_completes_without_a_reason(client, auth, world):
    v1 = world["visits"][0]
    db.session.get(ChecklistTemplate, v1.template_id).require_all_answered = False
    db.session.commit()
    auth.login("sup1")
    assert post(client, f"/visits/{v1.id}/complete").status_code == 303
    assert db.session.get(Visit, v1.id).status == "completed"


@pytest.mark.parametrize("who,status", [("sup2", 404), ("head1", 403), ("staff1", 403), ("manager", 303)])
def test_who_may_complete(client, auth, world, who, status):
    v1 = world["visits"][0]
    auth.login(who)
    assert post(client, f"/visits/{v1.id}/complete", {"completion_reason": "原因"}).status_code == status
    assert (db.session.get(Visit, v1.id).status == "completed") is (status == 303)


def test_a_completed_visit_is_not_completed_twice_and_long_reasons_are_refused(client, auth, world):
    v1 = world["visits"][0]
    auth.login("sup1")
    r = post(client, f"/visits/{v1.id}/complete", {"completion_reason": "长" * 2001}, follow_redirects=True)
    assert r.status_code == 200 and db.session.get(Visit, v1.id).status == "scheduled"
    post(client, f"/visits/{v1.id}/complete", {"completion_reason": "原因\x00"})
    assert db.session.get(Visit, v1.id).completion_reason == "原因"
    r = post(client, f"/visits/{v1.id}/complete", {"completion_reason": "再来"}, follow_redirects=True)
    assert r.status_code == 200 and db.session.get(Visit, v1.id).completion_reason == "原因"


# -- the phone's push: the same rule --

@pytest.fixture
def sup1(world, device):
    return device(world["users"]["sup1"])


def test_a_push_completing_with_unanswered_items_needs_a_reason(world, sup1):
    v1 = world["visits"][0]
    r = sup1.post("/api/v1/sync/push", headers={"Accept-Language": "en"}, json={
        "device_id": sup1.device_id, "mutations": [sup1.mutation("visit", v1.id, {"status": "completed"},
                                                                   base_version=v1.version)]})
    res = r.get_json()["results"][0]
    assert res["status"] == "rejected" and "completion_reason" in res["errors"]
    assert "2 checklist items are unanswered" in res["errors"]["completion_reason"][0]
    res = sup1.push_one("visit", v1.id, {"status": "completed", "completion_reason": "停电"}, base_version=v1.version)
    assert res["status"] == "applied"
    visit = db.session.get(Visit, v1.id)
    assert visit.status == "completed" and visit.completion_reason == "停电"


def test_answers_sent_in_the_same_push_count(world, sup1):
    v1 = world["visits"][0]
    answers = [sup1.mutation("checklist_answer", new_id(), {"visit_id": v1.id, "item_id": i.id, "result": "pass"})
               for i in _items(v1)]
    results = sup1.push(*answers, sup1.mutation("visit", v1.id, {"status": "completed"}, base_version=v1.version))
    assert [r["status"] for r in results] == ["applied", "applied", "applied"]
    assert db.session.get(Visit, v1.id).status == "completed"


def test_a_push_creating_a_completed_visit_follows_the_rule(world, sup1):
    v1 = world["visits"][0]
    data = {"site_id": v1.site_id, "template_id": v1.template_id, "status": "completed"}
    assert sup1.push_one("visit", new_id(), data)["status"] == "rejected"
    assert sup1.push_one("visit", new_id(), {**data, "completion_reason": "临时抽查"})["status"] == "applied"


def test_the_push_message_is_in_the_users_language(world, sup1):
    v1 = world["visits"][0]
    r = sup1.post("/api/v1/sync/push", headers={"Accept-Language": "zh-CN"}, json={
        "device_id": sup1.device_id, "mutations": [sup1.mutation("visit", v1.id, {"status": "completed"},
                                                                   base_version=v1.version)]})
    assert "未作答" in r.get_json()["results"][0]["errors"]["completion_reason"][0]
