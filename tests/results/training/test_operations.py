"""Training needs with N, training plans and attendance, development note drafts — on hand-made data."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Person, TemplateItem
from webapp.results.periods import parse_period
from webapp.results.training import operations as ops

TZ = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hour=10, minute=0):
    return datetime(y, m, d, hour, minute, tzinfo=TZ)


@pytest.fixture
def three(world, create_department, create_site, create_visit, create_template):
    """Three departments with a visit each, on one template with items P1 (process) and R1 (risk)."""
    d3 = create_department("D3", "三部")
    s3 = create_site(d3, "S3")
    tpl = create_template("TT")
    items = {i.code: i for i in db.session.scalars(select(TemplateItem).where(TemplateItem.template_id == tpl.id))}
    sup = world["users"]["sup1"]
    visits = [create_visit(s, sup, template=tpl) for s in (*world["sites"], s3)]
    return {"depts": (*world["depts"], d3), "visits": visits, "items": items}


def test_needs_count_distinct_departments_per_item(three, create_finding):
    v1, v2, v3 = three["visits"]
    p1, r1 = three["items"]["P1"].id, three["items"]["R1"].id
    for v in (v1, v1, v2, v3):  # P1 in three departments, four findings
        create_finding(v, "流程", item_id=p1, area="process", captured_at=at(2026, 5, 3))
    for v in (v1, v1):  # R1 twice in one department
        create_finding(v, "风险", item_id=r1, area="risk", captured_at=at(2026, 5, 4))
    create_finding(v2, "风险", item_id=r1, area="risk", captured_at=at(2026, 7, 1))  # another quarter
    q2 = parse_period("2026-Q2")
    needs = ops.suggest_training_needs(q2, 2)
    assert [(n.item.code, len(n.department_ids), n.finding_count) for n in needs] == [("P1", 3, 4)]
    assert [n.item.code for n in ops.suggest_training_needs(q2, 3)] == ["P1"]
    assert ops.suggest_training_needs(q2, 4) == []
    assert [(n.item.code, n.finding_count) for n in ops.suggest_training_needs(q2, 1)] == [("P1", 4), ("R1", 2)]
    assert needs[0].findings_filter(q2) == {"item_id": p1, "date_from": "2026-04-01", "date_to": "2026-06-30"}


def test_findings_without_item_count_by_area(three, create_finding):
    v1, v2, _v3 = three["visits"]
    create_finding(v1, "无检查项", area="service", captured_at=at(2026, 5, 3))
    create_finding(v2, "无检查项", area="service", captured_at=at(2026, 5, 3))
    create_finding(v2, "有检查项", item_id=three["items"]["P1"].id, area="service", captured_at=at(2026, 5, 3))
    (need,) = ops.suggest_training_needs(parse_period("2026-05"), 2)
    assert (need.item, need.area, len(need.department_ids), need.finding_count) == (None, "service", 2, 2)
    assert need.findings_filter(parse_period("2026-05"))["area"] == "service"


def test_period_is_in_local_time(three, create_finding):
    v1, v2, _v3 = three["visits"]
    p1 = three["items"]["P1"].id
    create_finding(v1, "季末", item_id=p1, captured_at=at(2026, 6, 30, 23, 30))  # Q2 locally, 15:30 UTC
    create_finding(v2, "季初", item_id=p1, captured_at=at(2026, 7, 1, 0, 30))  # Q3 locally, Q2 in UTC
    assert ops.suggest_training_needs(parse_period("2026-Q2"), 2) == []
    assert [n.finding_count for n in ops.suggest_training_needs(parse_period("2026-Q2"), 1)] == [1]


def test_deleted_and_unassigned_findings_do_not_count(three, create_finding):
    v1, v2, _v3 = three["visits"]
    p1 = three["items"]["P1"].id
    create_finding(v1, "甲", item_id=p1, captured_at=at(2026, 5, 3))
    gone = create_finding(v2, "乙", item_id=p1, captured_at=at(2026, 5, 3))
    gone.deleted_at = at(2026, 5, 4)
    db.session.commit()
    assert ops.suggest_training_needs(parse_period("2026-Q2"), 2) == []


def test_needs_follow_the_users_scope(three, create_finding, world):
    v1, v2, _v3 = three["visits"]
    p1 = three["items"]["P1"].id
    create_finding(v1, "甲", item_id=p1, captured_at=at(2026, 5, 3))
    create_finding(v2, "乙", item_id=p1, captured_at=at(2026, 5, 3))
    q2 = parse_period("2026-Q2")
    assert len(ops.suggest_training_needs(q2, 2, world["users"]["manager"])) == 1
    assert ops.suggest_training_needs(q2, 2, world["users"]["head1"]) == []


# ---- training plans and attendance ------------------------------------------------------------

@pytest.fixture
def people(world):
    d1 = world["depts"][0]
    rows = [Person(name=n, department_id=d1.id) for n in ("员工甲", "员工乙")]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def test_item_sets_the_area_and_unknown_item_is_refused(world):
    tpl_item = db.session.scalar(select(TemplateItem).where(TemplateItem.code == "R1"))
    plan = ops.create_training_plan({"topic": "风险培训", "item_id": tpl_item.id, "area": "process"})
    assert plan.area == "risk"
    with pytest.raises(ops.TrainingError) as e:
        ops.create_training_plan({"topic": "x", "item_id": "no-such-item"})
    assert "item_id" in e.value.fields


def test_attendance_only_after_the_training_was_held(world, people):
    a, b = people
    plan = ops.create_training_plan({"topic": "培训", "status": "planned"})
    ops.set_attendance(plan, [a.id, b.id], [])
    assert {x.person_id: x.attended for x in plan.attendance} == {a.id: False, b.id: False}
    with pytest.raises(ops.TrainingError):
        ops.set_attendance(plan, [a.id], [a.id])
    plan.status = "held"
    ops.set_attendance(plan, [a.id], [b.id])  # attended implies invited; b was dropped from invited but attended
    assert {x.person_id: x.attended for x in plan.attendance} == {a.id: False, b.id: True}
    ops.set_attendance(plan, [a.id], [a.id])
    assert {x.person_id: x.attended for x in plan.attendance} == {a.id: True}
    assert [(t.topic, att) for t, att in ops.trainings_of(a)] == [("培训", True)]
    assert ops.trainings_of(b) == []
    with pytest.raises(ops.TrainingError):
        ops.set_attendance(plan, ["nobody"], [])


# ---- development notes -------------------------------------------------------------------------

def test_person_findings_and_draft(world, create_finding, people):
    a, _b = people
    v1 = world["visits"][0]
    f1 = create_finding(v1, "一", responsible_person="员工甲", area="service", severity="high")
    create_finding(v1, "二", responsible_person="员工甲", area="service", severity="low", status="closed")
    create_finding(v1, "三", responsible_person="员工甲", area="risk", severity="high")
    create_finding(world["visits"][1], "别的部门", responsible_person="员工甲")  # same name, other department
    found = ops.findings_of(a, world["users"]["manager"])
    assert {f.title for f in found} - {world["findings"][0].title} == {"一", "二", "三"}
    f1.repeat_of_id = world["findings"][0].id
    db.session.commit()
    with force_locale("en"):
        text = ops.draft_development_note(a, found)
    assert "员工甲 was named responsible for 4 findings." in text
    assert "By area: Service quality 2, Risk management 1, Business process compliance 1." in text
    assert "Repeat problems: 1. Still open: 3." in text
    assert "Suggested focus: Service quality" in text
    with force_locale("zh_CN"):
        assert "服务质量 2" in ops.draft_development_note(a, found)
    with force_locale("en"):
        assert "has not been named" in ops.draft_development_note(a, [])


def test_person_without_department_has_no_findings(world):
    p = Person(name="员工甲")
    db.session.add(p)
    db.session.commit()
    assert ops.findings_of(p, world["users"]["manager"]) == []
