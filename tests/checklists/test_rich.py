"""Rich checklist items in the template editor: answer types, criteria, options, ranges, conditions,
reference photos, site classes; each bad input a 400 with a clear message."""

import io

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from
from tests.photos.images import jpeg, sha
from webapp.checklists.models import ChecklistTemplate
from webapp.checklists.operations import templates_for_site_class
from webapp.core.database import sqlite_reading
from webapp.extensions import db
from webapp.photos.models import PhotoRef
from webapp.photos.operations import photo_visible_to

EN = {"Accept-Language": "en"}


@pytest.fixture(autouse=True)
def _reads_do_not_lock(app):
    with sqlite_reading():
        yield


def _rich(**over):
    data = {
        "code": "food", "name": "食品安全", "site_classes": "A，B",
        "items-0-area": "risk", "items-0-code": "F1", "items-0-title": "冷藏温度", "items-0-answer_type": "number",
        "items-0-range_min": "0", "items-0-range_max": "4", "items-0-unit": "°C", "items-0-weight": "2",
        "items-0-criteria": "0–4 °C", "items-0-guidance": "探针测中层",
        "items-1-area": "risk", "items-1-code": "F2", "items-1-title": "已隔离", "items-1-answer_type": "pass_fail",
        "items-1-condition_item": "F1", "items-1-condition_answer": "fail",
        "items-2-area": "process", "items-2-code": "F3", "items-2-title": "清洁", "items-2-answer_type": "scale",
        "items-2-scale_min": "0", "items-2-scale_max": "5",
        "items-3-area": "risk", "items-3-code": "F4", "items-3-title": "标签", "items-3-answer_type": "choice",
        "items-3-options": "完好 | Intact | 100\n个别缺失 | 50\n过期 | 0 | fail",
        "items-4-area": "risk", "items-4-code": "F5", "items-4-title": "已销毁", "items-4-condition_item": "F4",
        "items-4-condition_answer": "o3",
    }
    data.update(over)
    return data


def _post(client, url, data, **kw):
    token = csrf_from(client.get("/checklists/new").get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, headers=EN, **kw)


def test_a_rich_template_is_saved_with_every_setting(client, auth, world):
    auth.login("admin")
    resp = _post(client, "/checklists/new", _rich())
    assert resp.status_code == 302, resp.get_data(as_text=True)
    db.session.rollback()
    tpl = db.session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == "FOOD"))
    assert tpl.site_classes == ["A", "B"]
    f1, f2, f3, f4, f5 = tpl.items
    assert (f1.answer_type, f1.range_min, f1.range_max, f1.unit, f1.weight, f1.criteria, f1.guidance) == (
        "number", 0, 4, "°C", 2.0, "0–4 °C", "探针测中层")
    assert f2.condition == {"item": "F1", "answer": "fail"}
    assert (f3.answer_type, f3.scale_min, f3.scale_max, f3.scoring, f3.max_points) == ("scale", 0, 5, "points", 5)
    assert f4.options == [{"key": "o1", "label": "完好", "label_en": "Intact", "score": 100.0, "fail": False},
                          {"key": "o2", "label": "个别缺失", "label_en": None, "score": 50.0, "fail": False},
                          {"key": "o3", "label": "过期", "label_en": None, "score": 0.0, "fail": True}]
    assert f5.condition == {"item": "F4", "answer": "o3"} and f5.answer_type == "pass_fail"
    page = client.get(f"/checklists/{tpl.id}", headers=EN).get_data(as_text=True)
    assert "Measured number" in page and "Shown only when F4 is answered “过期”." in page
    assert "0–4 °C" in page and "Scale 0–5" in page
    edit = client.get(f"/checklists/{tpl.id}/edit", headers=EN).get_data(as_text=True)
    assert "完好 | Intact | 100" in edit and "过期 | 0 | fail" in edit and 'value="A, B"' in edit


@pytest.mark.parametrize(("over", "message"), [
    ({"items-2-scale_max": "0"}, "The highest score must be above the lowest."),
    ({"items-2-scale_max": ""}, "A scale needs its lowest and highest score."),
    ({"items-3-options": "只有一个 | 100"}, "A multiple choice needs at least two options."),
    ({"items-3-options": ""}, "A multiple choice needs at least two options."),
    ({"items-3-options": "好 | 100\n| 50"}, "Option 2 has no text."),
    ({"items-3-options": "好 | 100\n好 | 50"}, "Each option needs its own text."),
    ({"items-3-options": "好 | 100\n差 | 500"}, "This number is out of range."),
    ({"items-0-range_min": "5"}, "The highest value must be above the lowest."),
    ({"items-0-range_min": "", "items-0-range_max": ""}, "A number needs its range"),
    ({"items-1-condition_item": "F3"}, "A condition must point to an earlier item."),
    ({"items-1-condition_item": "F2"}, "An item cannot depend on itself."),
    ({"items-1-condition_item": "ZZ"}, "A condition must point to an earlier item."),
    ({"items-4-condition_answer": "o9"}, "That answer is not one the earlier item can have."),
    ({"items-0-answer_type": "essay"}, "Choose one of the offered options."),
    ({"site_classes": "A" * 21}, "A site class is at most 20 characters"),
])
def test_bad_settings_get_a_clear_400(client, auth, world, over, message):
    auth.login("admin")
    resp = _post(client, "/checklists/new", _rich(**over))
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert message in body or message.replace("“", "&#34;") in body, body[:3000]
    assert db.session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == "FOOD")) is None


def test_a_cycle_is_impossible_conditions_only_look_back(client, auth, world):
    auth.login("admin")
    resp = _post(client, "/checklists/new", _rich(**{"items-0-condition_item": "F2", "items-0-condition_answer": "pass"}))
    assert resp.status_code == 400 and "A condition must point to an earlier item." in resp.get_data(as_text=True)


def test_messages_in_chinese(client, auth, world):
    auth.login("admin")
    token = csrf_from(client.get("/checklists/new").get_data(as_text=True))
    resp = client.post("/checklists/new", data={**_rich(**{"items-2-scale_max": "0"}), "csrf_token": token},
                       headers={"Accept-Language": "zh-CN"})
    assert resp.status_code == 400 and "最高分必须大于最低分。" in resp.get_data(as_text=True)


def test_reference_photos_go_through_the_ingest_path_and_everyone_sees_them(client, auth, world):
    auth.login("admin")
    data = jpeg()
    resp = _post(client, "/checklists/new", {**_rich(), "items-2-reference_upload": (io.BytesIO(data), "good.jpg")},
                 content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    db.session.rollback()
    tpl = db.session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == "FOOD"))
    item = tpl.items[2]
    assert item.reference_photos == [sha(data)]
    assert db.session.scalar(select(PhotoRef.entity).where(PhotoRef.sha256 == sha(data))) == "template_item"
    assert photo_visible_to(world["users"]["sup2"], sha(data))  # reference data: every signed-in user
    auth.logout()
    auth.login("sup2")
    assert client.get(f"/api/v1/photos/{sha(data)}?variant=thumb").status_code == 200
    # removing it on the next edit drops the reference
    auth.logout()
    auth.login("admin")
    resp = client.get(f"/checklists/{tpl.id}/edit")
    assert resp.status_code == 200, resp.status_code
    page = resp.get_data(as_text=True)
    form = {**_rich(), "items-2-reference_photos": sha(data), "items-2-reference_remove": sha(data)}
    assert client.post(f"/checklists/{tpl.id}/edit", data={**form, "csrf_token": csrf_from(page)}).status_code == 302
    db.session.rollback()
    assert db.session.get(ChecklistTemplate, tpl.id).items[2].reference_photos == []


def test_a_file_that_is_not_a_photo_is_refused_clearly(client, auth, world):
    auth.login("admin")
    resp = _post(client, "/checklists/new", {**_rich(), "items-2-reference_upload": (io.BytesIO(b"not a photo"), "x.jpg")},
                 content_type="multipart/form-data")
    assert resp.status_code == 400
    assert db.session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == "FOOD")) is None


def test_hostile_text_is_kept_as_text(client, auth, world):
    auth.login("admin")
    resp = _post(client, "/checklists/new", _rich(**{"items-0-criteria": "=HYPERLINK(\"x\")<script>" + "长" * 4000,
                                                      "items-3-options": "<b>好</b> | 100\n差\x00 | 0 | fail"}))
    assert resp.status_code in (302, 400)
    assert resp.status_code != 500


def test_editors_and_viewers(client, auth, world):
    auth.login("manager")
    assert client.get("/checklists/new").status_code == 403
    auth.logout()
    auth.login("sup1")
    assert client.get("/checklists/").status_code == 403
    assert client.post("/checklists/new", data=_rich()).status_code in (400, 403)


def test_the_library_offers_the_site_class_templates_first(client, auth, world, create_template):
    general = create_template("GEN")
    store = create_template("STORE")
    store.site_classes = ["A"]
    other = create_template("WH")
    other.site_classes = ["C"]
    site = world["sites"][0]
    site.site_class = "A"
    db.session.commit()
    codes = [t.code for t in templates_for_site_class("A")]
    assert codes.index("STORE") < codes.index("GEN") < codes.index("WH")
    assert [t.code for t in templates_for_site_class(None)][-1] == "WH"
    auth.login("sup1")
    html = client.get(f"/checklists/library?site_id={site.id}", headers=EN).get_data(as_text=True)
    assert html.index("For class A sites") < html.index(store.id) < html.index("Other templates") < html.index(
        general.id) < html.index(other.id)
    assert client.get("/checklists/library?site_id=nope").status_code == 200
    assert general and other
