"""Training pages: role × URL table (incl. guessing), full page and htmx fragment, bad input."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.review_helpers import post
from webapp.extensions import db
from webapp.models import DevelopmentNote, Person, TemplateItem, TrainingAttendance, TrainingPlan

HX = {"HX-Request": "true"}
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def data(world):
    d1, d2 = world["depts"]
    p1 = Person(name="员工甲", department_id=d1.id)
    p2 = Person(name="员工丙", department_id=d2.id)
    plan = TrainingPlan(topic="服务标准培训", status="held", area="service")
    db.session.add_all([p1, p2, plan])
    db.session.flush()
    db.session.add(TrainingAttendance(training_id=plan.id, person_id=p1.id, attended=True))
    n1 = DevelopmentNote(person_id=p1.id, note="甲的记录", author_id=world["users"]["manager"].id)
    n2 = DevelopmentNote(person_id=p2.id, note="丙的记录", author_id=world["users"]["manager"].id)
    db.session.add_all([n1, n2])
    db.session.commit()
    return {"p1": p1.id, "p2": p2.id, "plan": plan.id, "n1": n1.id, "n2": n2.id}


# url template, then expected status per role
ROLES = ("admin", "manager", "head1", "head2", "sup1", "staff1")
TABLE = [
    ("/results/training/", (200, 200, 200, 200, 403, 403)),
    ("/results/training/needs", (200, 200, 403, 403, 403, 403)),
    ("/results/training/new", (200, 200, 403, 403, 403, 403)),
    ("/results/training/{plan}", (200, 200, 200, 200, 404, 404)),
    ("/results/training/{plan}/edit", (200, 200, 403, 403, 404, 404)),
    ("/results/training/people/", (200, 200, 200, 200, 403, 403)),
    ("/results/training/people/{p1}", (200, 200, 200, 404, 404, 404)),
    ("/results/training/people/{p2}", (200, 200, 404, 200, 404, 404)),
    ("/results/training/notes/{n1}/edit", (200, 200, 403, 404, 404, 404)),
    ("/results/training/notes/{n2}/edit", (200, 200, 404, 403, 404, 404)),
    ("/results/training/no-such-plan", (404, 404, 404, 404, 404, 404)),
    ("/results/training/people/no-such-person", (404, 404, 404, 404, 404, 404)),
]


@pytest.mark.parametrize("who", ROLES)
def test_role_url_table(client, auth, data, who):
    auth.login(who)
    for url, expected in TABLE:
        status = expected[ROLES.index(who)]
        assert client.get(url.format(**data)).status_code == status, (who, url)


@pytest.mark.parametrize("who", ("head1", "sup1", "staff1"))
def test_only_managers_write(client, auth, data, who):
    auth.login(who)
    assert post(client, "/results/training/new", {"topic": "x"}).status_code == 403
    assert post(client, f"/results/training/{data['plan']}/attendance", {"person_ids": data["p1"]}).status_code in (403, 404)
    assert post(client, f"/results/training/people/{data['p1']}/notes", {"note": "x"}).status_code in (403, 404)
    db.session.rollback()
    assert db.session.scalar(select(TrainingPlan).where(TrainingPlan.topic == "x")) is None
    assert db.session.scalar(select(DevelopmentNote).where(DevelopmentNote.note == "x")) is None


def test_dept_head_reads_own_people_only(client, auth, data):
    auth.login("head1")
    page = client.get("/results/training/people/").get_data(as_text=True)
    assert "员工甲" in page and "员工丙" not in page
    person = client.get(f"/results/training/people/{data['p1']}").get_data(as_text=True)
    assert "甲的记录" in person and "服务标准培训" in person and 'name="note"' not in person


def test_create_plan_from_a_need_prefills(client, auth, world):
    item = db.session.scalar(select(TemplateItem).where(TemplateItem.code == "R1"))
    auth.login("manager")
    page = client.get(f"/results/training/new?topic=R1+风险&area=risk&item_id={item.id}").get_data(as_text=True)
    assert 'value="R1 风险"' in page and f'value="{item.id}" selected' in page and 'value="risk" selected' in page


def test_create_edit_and_attendance(client, auth, data):
    auth.login("manager")
    resp = post(client, "/results/training/new", {"topic": "新培训", "held_on": "2026-05-20", "trainer": "吴敏",
                                                   "status": "planned", "area": "risk"})
    assert resp.status_code == 303
    db.session.rollback()
    plan = db.session.scalar(select(TrainingPlan).where(TrainingPlan.topic == "新培训"))
    assert (plan.trainer, str(plan.held_on), plan.area) == ("吴敏", "2026-05-20", "risk")
    resp = post(client, f"/results/training/{plan.id}/edit", {"topic": "新培训", "status": "held"})
    assert resp.status_code == 303
    resp = post(client, f"/results/training/{plan.id}/attendance",
                {"person_ids": [data["p1"], data["p2"]], "attended_ids": [data["p1"]]}, headers=HX)
    assert resp.status_code == 200 and "<html" not in resp.get_data(as_text=True)
    db.session.rollback()
    rows = {a.person_id: a.attended for a in db.session.scalars(select(TrainingAttendance).where(
        TrainingAttendance.training_id == plan.id))}
    assert rows == {data["p1"]: True, data["p2"]: False}


@pytest.mark.parametrize(("headers", "message"), [(EN, "This field is required."), (ZH, "此项为必填项。")])
def test_bad_plan_input(client, auth, data, headers, message):
    auth.login("manager")
    resp = post(client, "/results/training/new", {"topic": "", "held_on": "2026-13-40", "audience": "保留我",
                                                  "status": "bogus"}, headers=headers)
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert message in page and 'id="held_on-error"' in page and 'id="status-error"' in page and "保留我" in page
    resp = post(client, "/results/training/new", {"topic": "x", "item_id": "nope"}, headers=headers)
    assert resp.status_code == 400 and 'id="item_id-error"' in resp.get_data(as_text=True)


def test_attendance_before_held_is_a_clear_error(client, auth, data):
    db.session.get(TrainingPlan, data["plan"]).status = "planned"
    db.session.commit()
    auth.login("manager")
    resp = post(client, f"/results/training/{data['plan']}/attendance",
                {"person_ids": [data["p1"]], "attended_ids": [data["p1"]]}, headers=EN)
    assert resp.status_code == 400
    assert "Attendance can be marked once the training was held." in resp.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(TrainingAttendance, (data["plan"], data["p1"])).attended is True  # unchanged


def test_needs_page_full_and_htmx_and_bad_input(client, auth, world, create_finding, create_visit, create_site):
    item = db.session.scalar(select(TemplateItem).where(TemplateItem.code == "P1"))
    now = datetime.now(UTC)
    for v in world["visits"]:
        create_finding(v, "流程", item_id=item.id, captured_at=now)
    auth.login("manager")
    full = client.get("/results/training/needs", headers=EN)
    assert full.status_code == 200 and "<html" in full.get_data(as_text=True)
    text = full.get_data(as_text=True)
    assert f"item_id={item.id}" in text and "Create a training plan" in text
    frag = client.get("/results/training/needs?min_departments=3", headers={**HX, **EN})
    body = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in body and "No problem recurs" in body
    assert frag.headers.get("Vary") and "HX-Request" in frag.headers["Vary"]
    bad = client.get("/results/training/needs?period=2026-Q9&min_departments=zero", headers=EN)
    assert bad.status_code == 400
    assert "Enter a period like" in bad.get_data(as_text=True) and "Enter a whole number." in bad.get_data(as_text=True)


def test_development_note_add_htmx_edit_and_errors(client, auth, data):
    auth.login("manager")
    page = client.get(f"/results/training/people/{data['p1']}", headers=EN).get_data(as_text=True)
    assert "was named responsible for" in page  # the suggested draft
    resp = post(client, f"/results/training/people/{data['p1']}/notes", {"note": "新记录"}, headers=HX)
    assert resp.status_code == 200 and "新记录" in resp.get_data(as_text=True)
    assert "<html" not in resp.get_data(as_text=True)
    resp = post(client, f"/results/training/people/{data['p1']}/notes", {"note": ""}, headers=ZH)
    assert resp.status_code == 400 and "此项为必填项。" in resp.get_data(as_text=True)
    resp = post(client, f"/results/training/notes/{data['n1']}/edit", {"note": "改过的"})
    assert resp.status_code == 303
    resp = post(client, f"/results/training/notes/{data['n1']}/edit", {"note": " "}, headers=EN)
    assert resp.status_code == 400
    db.session.rollback()
    assert db.session.get(DevelopmentNote, data["n1"]).note == "改过的"
    notes = db.session.scalars(select(DevelopmentNote).where(DevelopmentNote.person_id == data["p1"])).all()
    assert sorted(n.note for n in notes) == ["改过的", "新记录"]
