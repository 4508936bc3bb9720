"""The last result and note per checklist item from the previous visit to the site, computed by the
server into the pulled visit (webapp/visits/completion.py previous_results), by item code."""

from datetime import UTC, datetime

from sqlalchemy import select

from webapp.checklists.models import TemplateItem
from webapp.extensions import db
from webapp.visits.models import ChecklistAnswer


def _items(visit):
    return db.session.scalars(select(TemplateItem).where(TemplateItem.template_id == visit.template_id)
                              .order_by(TemplateItem.position)).all()


def _visit_data(device, visit_id):
    changes = device.pull()["changes"]
    return next(c["data"] for c in changes if c["entity"] == "visit" and c["id"] == visit_id)


def test_the_pulled_visit_carries_the_previous_visits_results(world, create_visit, device):
    v1, sup1 = world["visits"][0], world["users"]["sup1"]
    s1 = world["sites"][0]
    old = create_visit(s1, world["users"]["sup2"], status="completed")  # by another supervisor: the site's history
    old.completed_at = datetime(2026, 10, 2, 3, 0, tzinfo=UTC)
    p1, r1 = _items(old)
    db.session.add_all([ChecklistAnswer(visit_id=old.id, item_id=p1.id, result="pass", note="良好"),
                        ChecklistAnswer(visit_id=old.id, item_id=r1.id, result="fail", note="消防通道堵塞")])
    db.session.commit()
    data = _visit_data(device(sup1), v1.id)
    assert data["previous"] == {"visit_id": old.id, "date": "2026-10-02", "results": {
        "P1": {"result": "pass", "note": "良好"}, "R1": {"result": "fail", "note": "消防通道堵塞"}}}


def test_the_latest_completed_visit_counts_and_completed_visits_carry_none(world, create_visit, device):
    v1, s1 = world["visits"][0], world["sites"][0]
    older = create_visit(s1, world["users"]["sup1"], status="completed")
    older.completed_at = datetime(2026, 9, 1, tzinfo=UTC)
    newer = create_visit(s1, world["users"]["sup1"], status="completed")
    newer.completed_at = datetime(2026, 11, 1, tzinfo=UTC)
    db.session.add(ChecklistAnswer(visit_id=newer.id, item_id=_items(newer)[0].id, result="na"))
    db.session.commit()
    dev = device(world["users"]["sup1"])
    changes = {c["id"]: c["data"] for c in dev.pull()["changes"] if c["entity"] == "visit"}
    assert changes[v1.id]["previous"]["visit_id"] == newer.id
    assert changes[v1.id]["previous"]["results"] == {"P1": {"result": "na", "note": None}}
    assert "previous" not in changes[newer.id]


def test_a_site_never_visited_before_has_no_previous(world, device):
    v1 = world["visits"][0]
    assert "previous" not in _visit_data(device(world["users"]["sup1"]), v1.id)


def test_the_template_carries_its_rule_and_common_problems(world, device):
    v1 = world["visits"][0]
    item = _items(v1)[1]
    item.common_problems = ["消防通道堵塞", "灭火器过期"]
    db.session.commit()
    changes = device(world["users"]["sup1"]).pull()["changes"]
    tpl = next(c["data"] for c in changes if c["entity"] == "template")
    assert tpl["require_all_answered"] is True
    assert [i["common_problems"] for i in tpl["items"]] == [[], ["消防通道堵塞", "灭火器过期"]]
