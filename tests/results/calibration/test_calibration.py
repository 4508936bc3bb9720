"""Calibration (校准): blind double inspections, the agreement rate on the supervisor's scorecard and
the items with the lowest agreement on the dashboard (issue #19 item 12)."""

import random
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.conftest import AuthActions, csrf_from
from tests.sync.conftest import Device
from webapp.checklists.models import TemplateItem
from webapp.extensions import db
from webapp.results.calibration.agreement import (
    agreement_by_item,
    agreement_by_supervisor,
    compare_answers,
    lowest,
)
from webapp.results.calibration.models import CalibrationPair
from webapp.results.calibration.operations import (
    CalibrationError,
    lowest_agreement_items,
    schedule_calibration,
    supervisor_agreement,
)
from webapp.results.periods import parse_period
from webapp.visits.models import ChecklistAnswer, Visit

EN = {"Accept-Language": "en"}
TZ = "Asia/Shanghai"


def A(item, result=None, score=None):  # noqa: N802 — an answer, tersely
    return SimpleNamespace(item_id=item, result=result, score=score)


# ---- pure -------------------------------------------------------------------------------------

def test_agreement_counts_the_items_both_answered():
    first = [A("p1", "pass"), A("p2", "fail"), A("p3", "pass"), A("p4", None), A("p5", "na")]
    second = [A("p1", "pass"), A("p2", "pass"), A("p3", "pass"), A("p4", "pass"), A("p5", "na"), A("p6", "fail")]
    c = compare_answers(first, second)
    assert c.items == {"p1": True, "p2": False, "p3": True, "p5": True}  # p4, p6: one side only
    assert (c.agreed, c.compared) == (3, 4)
    sample = compare_answers(first, second, ["p2", "p3", "p6"])
    assert sample.items == {"p2": False, "p3": True}
    points = compare_answers([A("x", None, 8.0)], [A("x", None, 7.0)])
    assert points.items == {"x": False}


def test_agreement_per_supervisor_and_per_item():
    c1 = compare_answers([A("a", "pass"), A("b", "fail")], [A("a", "pass"), A("b", "pass")])  # 1/2
    c2 = compare_answers([A("a", "pass"), A("b", "pass")], [A("a", "pass"), A("b", "pass")])  # 2/2
    by_sup = agreement_by_supervisor([("s1", "s2", c1), ("s1", "s3", c2)])
    assert (by_sup["s1"].agreed, by_sup["s1"].compared, by_sup["s1"].pairs) == (3, 4, 2)
    assert by_sup["s2"].rate == 0.5 and by_sup["s3"].rate == 1.0
    items = agreement_by_item([c1, c2])
    assert items["b"].rate == 0.5 and items["a"].rate == 1.0
    assert [k for k, _a in lowest(items)] == ["b", "a"]
    assert supervisor_agreement.__doc__  # the operation documents its period rule


# ---- scheduling and the blind rule --------------------------------------------------------------

@pytest.fixture
def first_visit(world, create_template):
    """sup1's completed visit at S1 with four items answered (P1 pass, P2 fail, R1 pass, R2 pass)."""
    tpl = create_template("CAL", items=(("process", "P1", False), ("process", "P2", False),
                                        ("risk", "R1", False), ("risk", "R2", False)))
    visit = Visit(site_id=world["sites"][0].id, department_id=world["depts"][0].id, template_id=tpl.id,
                  supervisor_id=world["users"]["sup1"].id, status="completed", scheduled_for=date(2026, 11, 2),
                  completed_at=datetime(2026, 11, 2, 6, tzinfo=UTC))
    db.session.add(visit)
    db.session.flush()
    items = {i.code: i for i in db.session.scalars(select(TemplateItem).where(TemplateItem.template_id == tpl.id))}
    for code, result in (("P1", "pass"), ("P2", "fail"), ("R1", "pass"), ("R2", "pass")):
        db.session.add(ChecklistAnswer(visit_id=visit.id, item_id=items[code].id, result=result,
                                       note=f"[first-secret-{code}]", photos=[]))
    db.session.commit()
    return SimpleNamespace(visit=visit, items=items, template=tpl)


def _schedule(app, world, first_visit, **over):
    data = {"first_visit_id": first_visit.visit.id, "supervisor_id": world["users"]["sup2"].id,
            "scheduled_for": date(2026, 11, 21), "due_by": date(2026, 11, 27), "sample_size": 0, "note": None}
    data.update(over)
    with app.test_request_context(headers=EN):
        pair = schedule_calibration(world["users"]["manager"], data, rng=random.Random(1))
        db.session.commit()
    return pair


def test_scheduling_creates_the_second_visit(app, world, first_visit):
    pair = _schedule(app, world, first_visit, sample_size=2)
    second = db.session.get(Visit, pair.second_visit_id)
    assert (second.site_id, second.template_id, second.supervisor_id, second.status) == (
        first_visit.visit.site_id, first_visit.template.id, world["users"]["sup2"].id, "scheduled")
    assert len(pair.item_ids) == 2 and set(pair.item_ids) <= {i.id for i in first_visit.items.values()}
    assert "Calibration inspection" in second.preparation_notes and "first-secret" not in second.preparation_notes


@pytest.mark.parametrize(("over", "field"), [
    ({"supervisor_id": "sup1"}, "supervisor_id"),  # the first inspector again
    ({"supervisor_id": "head1"}, "supervisor_id"),  # not a supervisor
    ({"due_by": date(2026, 11, 1)}, "due_by"),
])
def test_scheduling_refuses_bad_input(app, world, first_visit, over, field):
    if "supervisor_id" in over:
        over = {"supervisor_id": world["users"][over["supervisor_id"]].id}
    with pytest.raises(CalibrationError) as e:
        _schedule(app, world, first_visit, **over)
    assert field in e.value.fields


def test_only_a_manager_schedules(app, world, first_visit):
    for role in ("admin", "sup1", "head1"):
        with app.test_request_context(headers=EN), pytest.raises(CalibrationError) as e:
            schedule_calibration(world["users"][role], {"first_visit_id": first_visit.visit.id}, rng=None)
        assert e.value.status == 403


def test_the_second_inspector_cannot_read_the_first_answers(client, app, world, first_visit):
    """Blind: not in the sync pull, not on the visit's pages, not through the API, not by URL guessing."""
    pair = _schedule(app, world, first_visit)
    phone = Device(client, world["users"]["sup2"])
    changes, _cursor = phone.pull_all()
    ids = {c["id"] for c in changes}
    assert pair.second_visit_id in ids and first_visit.visit.id not in ids
    pulled = str(changes)
    assert "first-secret" not in pulled
    assert not any(c["entity"] == "checklist_answer" and c.get("data", {}).get("visit_id") == first_visit.visit.id
                   for c in changes)
    # Asking the sync API for the first visit's answer by its id: refused like a record that does not exist.
    answer = db.session.scalar(select(ChecklistAnswer).where(ChecklistAnswer.visit_id == first_visit.visit.id))
    res = phone.push_one("checklist_answer", answer.id, {"note": "?"}, base_version=answer.version)
    assert res["status"] == "rejected" and "first-secret" not in str(res)
    # The desk, by URL guessing: 404, as for a visit that does not exist.
    auth = AuthActions(client)
    auth.login("sup2")
    first_id = first_visit.visit.id
    for url in (f"/visits/{first_id}", f"/visits/{first_id}/report", f"/results/evaluation/visits/{first_id}",
                "/results/calibration/", f"/findings/?visit_id={first_id}"):
        r = client.get(url)
        assert "first-secret" not in r.get_data(as_text=True), url
        if "?" not in url:
            assert r.status_code == 404, url
    second = client.get(f"/visits/{pair.second_visit_id}")
    assert second.status_code == 200 and "first-secret" not in second.get_data(as_text=True)
    auth.logout()
    # nor the first inspector the second's (once answered)
    db.session.add(ChecklistAnswer(visit_id=pair.second_visit_id, item_id=first_visit.items["P1"].id,
                                   result="fail", note="[second-secret]", photos=[]))
    db.session.commit()
    first_phone = Device(client, world["users"]["sup1"])
    assert "second-secret" not in str(first_phone.pull_all()[0])
    auth.login("sup1")
    assert client.get(f"/visits/{pair.second_visit_id}").status_code == 404


def _answer_second(pair, first_visit, results, when=datetime(2026, 11, 10, 6, tzinfo=UTC)):
    second = db.session.get(Visit, pair.second_visit_id)
    for code, result in results.items():
        db.session.add(ChecklistAnswer(visit_id=second.id, item_id=first_visit.items[code].id, result=result, photos=[]))
    second.status, second.completed_at = "completed", when
    db.session.commit()


def test_the_agreement_rate_and_the_lowest_items(app, world, first_visit):
    pair = _schedule(app, world, first_visit)
    # P1 same, P2 differs (fail vs pass), R1 same, R2 not answered by the second: 2 of 3 agree
    _answer_second(pair, first_visit, {"P1": "pass", "P2": "pass", "R1": "pass"})
    november = parse_period("2026-11")
    with app.test_request_context():
        for sup in ("sup1", "sup2"):
            a = supervisor_agreement(world["users"][sup].id, november, TZ)
            assert (a.agreed, a.compared, a.pairs) == (2, 3, 1)
        assert supervisor_agreement(world["users"]["sup1"].id, parse_period("2026-10"), TZ).compared == 0
        low = lowest_agreement_items(november, TZ)
    assert low[0].item.code == "P2" and low[0].agreement.rate == 0.0
    assert [r.item.code for r in low] == ["P2"]  # items always judged alike are not listed


def test_the_scorecard_and_the_dashboard_show_it(client, auth, app, world, first_visit):
    pair = _schedule(app, world, first_visit)
    _answer_second(pair, first_visit, {"P1": "pass", "P2": "pass", "R1": "pass", "R2": "pass"})
    auth.login("manager")
    card = client.get(f"/results/supervisors/{world['users']['sup2'].id}?period=2026-11", headers=EN)
    body = card.get_data(as_text=True)
    assert card.status_code == 200 and "Agreement with peers" in body and "75.0%" in body and "3 ÷ 4" in body
    dash = client.get("/results/?period=2026-11", headers=EN).get_data(as_text=True)
    assert "Criteria to clarify" in dash and "P2" in dash
    page = client.get("/results/calibration/?period=2026-11", headers=EN)
    assert page.status_code == 200 and "75%" in page.get_data(as_text=True)
    auth.logout()
    auth.login("sup2")  # their own scorecard shows the rate, not the peer's answers
    mine = client.get(f"/results/supervisors/{world['users']['sup2'].id}?period=2026-11", headers=EN)
    assert "Agreement with peers" in mine.get_data(as_text=True) and "first-secret" not in mine.get_data(as_text=True)


def test_the_schedule_form(client, auth, world, first_visit):
    auth.login("manager")
    page = client.get("/results/calibration/", headers=EN)
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    data = {"csrf_token": token, "first_visit_id": first_visit.visit.id, "supervisor_id": world["users"]["sup2"].id,
            "scheduled_for": "2026-11-23", "due_by": "2026-11-30", "sample_size": "3", "note": "=HYPERLINK(1)"}
    assert client.post("/results/calibration/", data=data).status_code == 302
    db.session.rollback()
    pair = db.session.scalar(select(CalibrationPair))
    assert len(pair.item_ids) == 3
    again = client.post("/results/calibration/", data=data, headers=EN)
    assert again.status_code == 400 and "already has a calibration inspection" in again.get_data(as_text=True)
    bad = client.post("/results/calibration/", data={**data, "scheduled_for": "nope", "sample_size": "-1"}, headers=EN)
    assert bad.status_code == 400
    ghost = client.post("/results/calibration/", data={**data, "first_visit_id": "x" * 36}, headers=EN)
    assert ghost.status_code == 400


@pytest.mark.parametrize(("role", "get", "post"), [
    ("manager", 200, None), ("admin", 200, 403), ("sup1", 404, 404), ("head1", 404, 404), ("staff1", 404, 404)])
def test_who_may_use_calibration(client, auth, world, role, get, post):
    auth.login(role)
    assert client.get("/results/calibration/").status_code == get
    if post:
        token = csrf_from(client.get("/account/").get_data(as_text=True))
        assert client.post("/results/calibration/", data={"csrf_token": token}).status_code == post
