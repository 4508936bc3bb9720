"""Rich checklists on the wire (docs/sync-protocol.md): template items carry their answer type and
settings; an answer carries `choice` and `value` beside `result` and `score`; a phone that sends
only pass/fail keeps working."""

import pytest

from tests.sync.conftest import new_id
from webapp.checklists.models import ChecklistTemplate, TemplateItem
from webapp.extensions import db
from webapp.visits.models import ChecklistAnswer, Visit
from webapp.visits.scoring import score_by_area


@pytest.fixture
def rich(world):
    tpl = ChecklistTemplate(code="FOOD", revision=1, name="食品安全", site_classes=["A"])
    db.session.add(tpl)
    db.session.flush()
    items = [
        TemplateItem(template_id=tpl.id, area="risk", code="F1", title="温度", answer_type="number", range_min=0,
                     range_max=4, unit="°C", weight=2.0, position=0, criteria="0–4 °C", guidance="探针"),
        TemplateItem(template_id=tpl.id, area="risk", code="F2", title="隔离", position=1,
                     condition={"item": "F1", "answer": "fail"}),
        TemplateItem(template_id=tpl.id, area="process", code="F3", title="清洁", answer_type="scale", scale_min=0,
                     scale_max=5, scoring="points", max_points=5, position=2, reference_photos=["a" * 64]),
        TemplateItem(template_id=tpl.id, area="risk", code="F4", title="标签", answer_type="choice", position=3,
                     options=[{"key": "o1", "label": "好", "score": 100, "fail": False},
                              {"key": "o2", "label": "过期", "score": 0, "fail": True}]),
    ]
    db.session.add_all(items)
    visit = world["visits"][0]
    visit.template_id = tpl.id
    db.session.commit()
    return {"template": tpl, "items": {i.code: i for i in items}, "visit": visit}


def test_the_pull_carries_the_rich_item_settings(world, rich, device):
    changes, _ = device(world["users"]["sup1"]).pull_all()
    [tpl] = [c for c in changes if c["entity"] == "template" and c["id"] == rich["template"].id]
    assert tpl["data"]["site_classes"] == ["A"]
    f1, f2, f3, f4 = tpl["data"]["items"]
    assert (f1["answer_type"], f1["range_min"], f1["range_max"], f1["unit"], f1["criteria"], f1["guidance"]) == (
        "number", 0, 4, "°C", "0–4 °C", "探针")
    assert f2["condition"] == {"item": "F1", "answer": "fail"} and f2["answer_type"] == "pass_fail"
    assert (f3["scale_min"], f3["scale_max"], f3["reference_photos"]) == (0, 5, ["a" * 64])
    assert [o["key"] for o in f4["options"]] == ["o1", "o2"]
    # the fields an older phone reads are still there
    assert {"scoring", "max_points", "weight", "photo_required_on_fail"} <= set(f1)


def test_typed_answer_values_sync_and_score(world, rich, device):
    phone = device(world["users"]["sup1"])
    visit, items = rich["visit"], rich["items"]
    ids = {code: new_id() for code in items}
    results = phone.push(
        phone.mutation("checklist_answer", ids["F1"], {"visit_id": visit.id, "item_id": items["F1"].id,
                                                       "result": "fail", "value": 7.5}),
        phone.mutation("checklist_answer", ids["F2"], {"visit_id": visit.id, "item_id": items["F2"].id,
                                                       "result": "pass"}),
        phone.mutation("checklist_answer", ids["F3"], {"visit_id": visit.id, "item_id": items["F3"].id,
                                                       "result": "pass", "score": 4}),
        phone.mutation("checklist_answer", ids["F4"], {"visit_id": visit.id, "item_id": items["F4"].id,
                                                       "result": "fail", "choice": "o2"}))
    assert [r["status"] for r in results] == ["applied"] * 4, results
    db.session.expire_all()
    f1 = db.session.get(ChecklistAnswer, ids["F1"])
    assert (f1.value, f1.result) == (7.5, "fail")
    assert db.session.get(ChecklistAnswer, ids["F4"]).choice == "o2"
    answers = db.session.get(Visit, visit.id).answers
    score = score_by_area(db.session.get(ChecklistTemplate, rich["template"].id).items, answers)
    # risk: F1 out of range (0 of 2), F2 shown and passed (1 of 1), F4 expired (0 of 1) → 25 %; process: 4 of 5
    assert (score["risk"], score["process"]) == (25.0, 80.0)
    # an edit of the value alone merges like any field, and comes back in the pull
    res = phone.push_one("checklist_answer", ids["F1"], {"value": 3.0, "result": "pass"}, base_version=1)
    assert res["status"] == "applied"
    changes, _ = phone.pull_all()
    [mine] = [c for c in changes if c["id"] == ids["F1"]]
    assert (mine["data"]["value"], mine["data"]["choice"], mine["data"]["result"]) == (3.0, None, "pass")


def test_an_old_phone_sending_pass_fail_keeps_working(world, rich, device):
    phone = device(world["users"]["sup1"])
    visit, items = rich["visit"], rich["items"]
    res = phone.push_one("checklist_answer", new_id(), {"visit_id": visit.id, "item_id": items["F3"].id,
                                                        "result": "pass", "score": 5, "note": "旧版"})
    assert res["status"] == "applied"
    res = phone.push_one("checklist_answer", new_id(), {"visit_id": visit.id, "item_id": items["F1"].id,
                                                        "result": "fail"})
    assert res["status"] == "applied"
    db.session.expire_all()
    score = score_by_area(db.session.get(ChecklistTemplate, rich["template"].id).items,
                          db.session.get(Visit, visit.id).answers)
    assert (score["process"], score["risk"]) == (100.0, 0.0)


@pytest.mark.parametrize(("data", "field"), [
    ({"choice": "o9"}, "choice"),  # not one of the item's options
    ({"choice": "=cmd|' /C calc'!A0"}, "choice"),
    ({"value": "hot"}, "value"),
    ({"value": 1e12}, "value"),
    ({"score": -1}, "score"),
])
def test_bad_answer_values_are_rejected_with_a_message(world, rich, device, data, field):
    phone = device(world["users"]["sup1"])
    res = phone.push_one("checklist_answer", new_id(), {"visit_id": rich["visit"].id,
                                                        "item_id": rich["items"]["F4"].id, "result": "pass", **data})
    assert res["status"] == "rejected" and field in res["errors"], res
