import pytest
from sqlalchemy import select

from tests.conftest import csrf_from
from webapp.checklists.models import ChecklistTemplate
from webapp.core.database import sqlite_reading
from webapp.extensions import db

EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def _reads_do_not_lock(app):
    with sqlite_reading():
        yield


def _form(template, **over):
    data = {"name": template.name, "csrf_token": None}
    for n, item in enumerate(template.items):
        data.update({f"items-{n}-area": item.area, f"items-{n}-code": item.code, f"items-{n}-title": item.title,
                     f"items-{n}-weight": str(item.weight), f"items-{n}-scoring": item.scoring,
                     f"items-{n}-max_points": str(item.max_points)})
        if item.photo_required_on_fail:
            data[f"items-{n}-photo_required_on_fail"] = "1"
    data.update(over)
    return data


@pytest.mark.parametrize(("role", "view", "edit"), [
    ("admin", 200, 200), ("manager", 200, 403), ("sup1", 403, 403), ("head1", 403, 403)])
def test_who_sees_and_edits_templates(client, auth, world, role, view, edit):
    tpl = world["visits"][0].template
    auth.login(role)
    assert client.get("/checklists/").status_code == view
    assert client.get(f"/checklists/{tpl.id}").status_code == view
    assert client.get(f"/checklists/{tpl.id}/edit").status_code == edit


def test_editing_a_used_template_through_the_form_makes_a_revision(client, auth, world):
    visit = world["visits"][0]
    tpl = visit.template
    auth.login("admin")
    page = client.get(f"/checklists/{tpl.id}/edit", headers=EN).get_data(as_text=True)
    assert "saving creates a new revision" in page
    data = _form(tpl, **{"items-0-title": "流程完整性(修订)", "items-1-photo_required_on_fail": "",
                         "items-2-code": "T9", "items-2-title": "新增项", "items-2-area": "teamwork",
                         "csrf_token": csrf_from(page)})
    resp = client.post(f"/checklists/{tpl.id}/edit", data=data)
    assert resp.status_code == 302
    db.session.rollback()
    revs = db.session.scalars(select(ChecklistTemplate).where(ChecklistTemplate.code == tpl.code)
                              .order_by(ChecklistTemplate.revision)).all()
    assert [(r.revision, r.is_current) for r in revs] == [(1, False), (2, True)]
    assert [(i.code, i.title) for i in revs[1].items] == [("P1", "流程完整性(修订)"), ("R1", "R1"), ("T9", "新增项")]
    assert [i.title for i in revs[0].items] == ["P1", "R1"]
    assert db.session.get(type(visit), visit.id).template_id == revs[0].id
    assert client.get(f"/checklists/{revs[0].id}/edit").status_code == 302  # superseded: read only


def test_bad_items_get_clear_errors(client, auth, world):
    tpl = world["visits"][0].template
    auth.login("admin")
    token = csrf_from(client.get(f"/checklists/{tpl.id}/edit").get_data(as_text=True))
    resp = client.post(f"/checklists/{tpl.id}/edit", headers=EN, data=_form(
        tpl, **{"items-1-code": "P1", "items-0-weight": "-1", "csrf_token": token}))
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "This number is out of range." in body
    resp = client.post(f"/checklists/{tpl.id}/edit", headers=EN, data=_form(tpl, **{"items-1-code": "P1",
                                                                                   "csrf_token": token}))
    assert "Each item needs its own code." in resp.get_data(as_text=True)


def test_new_template_and_item_row_fragment(client, auth, world):
    auth.login("admin")
    token = csrf_from(client.get("/checklists/new").get_data(as_text=True))
    row = client.get("/checklists/item-row?n=7", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'name="items-7-code"' in row and "<html" not in row
    resp = client.post("/checklists/new", data={"code": "store", "name": "门店检查表", "items-0-area": "service",
                                                "items-0-code": "S1", "items-0-title": "服务标准执行",
                                                "items-0-scoring": "points", "items-0-max_points": "5",
                                                "csrf_token": token})
    assert resp.status_code == 302
    db.session.rollback()
    tpl = db.session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == "STORE"))
    assert [(i.scoring, i.max_points) for i in tpl.items] == [("points", 5.0)]
