"""Appeals (申诉): a department head appeals an entry of their department, management decides;
notifications, audit, and who may do what by guessing URLs."""

import pytest
from sqlalchemy import select

from tests.results.points.conftest import Q4, TODAY, local
from tests.review_helpers import post
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.notifications.models import Notification
from webapp.results.models import PointAppeal, PointEntry
from webapp.results.points.operations import (
    PointsError,
    appeal_entry,
    decide_appeal,
    department_totals,
    post_points,
)


@pytest.fixture
def two(ledger, finding_at):
    """One active −2 entry per department (Q4)."""
    finding_at(local(2026, 10, 5), "medium", dept=1)
    finding_at(local(2026, 10, 5), "medium", dept=2)
    post_points(Q4, today=TODAY)
    db.session.commit()
    d1, d2 = ledger["depts"]
    e1 = db.session.scalar(select(PointEntry).where(PointEntry.department_id == d1.id))
    e2 = db.session.scalar(select(PointEntry).where(PointEntry.department_id == d2.id))
    return {**ledger, "e1": e1, "e2": e2}


def _reload(model, pk):
    db.session.rollback()
    return db.session.get(model, pk)


def test_appeal_then_uphold_voids_the_entry(two):
    head, manager = two["users"]["head1"], two["users"]["manager"]
    appeal = appeal_entry(two["e1"], head, "  系统故障导致  ")
    db.session.commit()
    assert appeal.reason == "系统故障导致" and two["e1"].status == "appealed"
    # Under appeal it still counts.
    assert {r["department"].code: r["total"] for r in department_totals(manager, "2026-Q4")}["D1"] == -2
    notes = db.session.scalars(select(Notification).where(Notification.kind == "points_appeal")).all()
    assert [n.user_id for n in notes] == [manager.id]
    assert notes[0].link == f"/results/points/entries/{two['e1'].id}"
    decide_appeal(appeal, manager, "upheld", "属实")
    db.session.commit()
    assert (appeal.status, appeal.decided_by, appeal.decision_note) == ("upheld", manager.id, "属实")
    assert appeal.decided_at is not None
    assert (two["e1"].status, two["e1"].note) == ("voided", "appeal_upheld")
    assert {r["department"].code: r["total"] for r in department_totals(manager, "2026-Q4")}["D1"] == 0
    told = db.session.scalars(select(Notification).where(Notification.kind == "points_appeal_upheld")).all()
    assert [n.user_id for n in told] == [head.id]
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "point_entry").order_by(AuditEntry.id)).all()
    assert actions == ["point_appeal.submit", "point_appeal.upheld"]


def test_rejected_appeal_makes_the_entry_count_again(two):
    appeal = appeal_entry(two["e1"], two["users"]["head1"], "理由")
    decide_appeal(appeal, two["users"]["manager"], "rejected", "证据充分")
    db.session.commit()
    assert two["e1"].status == "active" and appeal.status == "rejected"
    assert db.session.scalar(select(Notification.kind).where(Notification.user_id == two["users"]["head1"].id)) \
        == "points_appeal_rejected"


def test_one_pending_appeal_per_entry_and_no_appeal_of_voided(two):
    head = two["users"]["head1"]
    appeal_entry(two["e1"], head, "一")
    db.session.commit()
    with pytest.raises(PointsError) as e:
        appeal_entry(two["e1"], head, "二")
    assert e.value.status == 409
    two["e2"].status = "voided"
    with pytest.raises(PointsError):
        appeal_entry(two["e2"], two["users"]["head2"], "三")


def test_appeal_needs_a_reason_and_decision_a_note(two):
    with pytest.raises(PointsError) as e:
        appeal_entry(two["e1"], two["users"]["head1"], "   ")
    assert "reason" in e.value.fields
    appeal = appeal_entry(two["e1"], two["users"]["head1"], "理由")
    with pytest.raises(PointsError) as e:
        decide_appeal(appeal, two["users"]["manager"], "upheld", " ")
    assert "decision_note" in e.value.fields
    decide_appeal(appeal, two["users"]["manager"], "upheld", "好")
    with pytest.raises(PointsError) as e:
        decide_appeal(appeal, two["users"]["manager"], "rejected", "再来")
    assert e.value.status == 409


@pytest.mark.parametrize("who", ["head2", "manager", "admin", "sup1", "staff1"])
def test_only_the_department_head_appeals(two, who):
    with pytest.raises(PointsError) as e:
        appeal_entry(two["e1"], two["users"][who], "理由")
    assert e.value.status == 403


@pytest.mark.parametrize("who", ["head1", "head2", "sup1", "staff1"])
def test_only_management_decides(two, who):
    appeal = appeal_entry(two["e1"], two["users"]["head1"], "理由")
    with pytest.raises(PointsError) as e:
        decide_appeal(appeal, two["users"][who], "upheld", "好")
    assert e.value.status == 403


# ---- through the pages ---------------------------------------------------------------------------

# role → (entry 1 page, entry 2 page, appeals list, appeal entry 1, decide a pending appeal of entry 1)
URLS = {
    "admin": (200, 200, 200, 403, 303),
    "manager": (200, 200, 200, 403, 303),
    "head1": (200, 404, 200, 303, 403),
    "head2": (404, 200, 200, 404, 404),
    "sup1": (404, 404, 403, 404, 404),
    "staff1": (404, 404, 403, 404, 404),
}


@pytest.mark.parametrize("who", URLS)
def test_role_by_url(client, auth, two, who):
    e1_id, e2_id = two["e1"].id, two["e2"].id
    auth.login(who)
    got = [client.get(f"/results/points/entries/{e1_id}").status_code,
           client.get(f"/results/points/entries/{e2_id}").status_code,
           client.get("/results/points/appeals/").status_code,
           post(client, f"/results/points/entries/{e1_id}/appeal", {"reason": "理由"}).status_code]
    db.session.rollback()
    appeal = db.session.scalar(select(PointAppeal).where(PointAppeal.entry_id == e1_id))
    if appeal is None:  # the user could not appeal: head1 does, so there is something to decide
        appeal = appeal_entry(db.session.get(PointEntry, e1_id), two["users"]["head1"], "理由")
        db.session.commit()
    got.append(post(client, f"/results/points/appeals/{appeal.id}/decide",
                    {"result": "rejected", "decision_note": "不成立"}).status_code)
    assert tuple(got) == URLS[who]


def test_appeal_page_flow(client, auth, two):
    e1 = two["e1"]
    auth.login("head1")
    page = client.get(f"/results/points/entries/{e1.id}").get_data(as_text=True)
    assert 'name="reason"' in page and f"/findings/{e1.finding_id}" in page
    empty = post(client, f"/results/points/entries/{e1.id}/appeal", {"reason": ""}, headers={"Accept-Language": "en"})
    assert empty.status_code == 400 and "This field is required." in empty.get_data(as_text=True)
    done = post(client, f"/results/points/entries/{e1.id}/appeal", {"reason": "系统故障"}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "系统故障" in html and 'name="reason"' not in html
    again = post(client, f"/results/points/entries/{e1.id}/appeal", {"reason": "再次"})
    assert again.status_code == 409
    auth.logout()
    auth.login("manager")
    page = client.get(f"/results/points/entries/{e1.id}").get_data(as_text=True)
    assert 'name="decision_note"' in page
    listing = client.get("/results/points/appeals/?status=pending").get_data(as_text=True)
    assert "系统故障" in listing
    appeal_id = db.session.scalar(select(PointAppeal.id))
    bad = post(client, f"/results/points/appeals/{appeal_id}/decide", {"result": "maybe", "decision_note": ""},
               headers={"Accept-Language": "zh-CN"})
    assert bad.status_code == 400
    assert "此项为必填项。" in bad.get_data(as_text=True) and "请从给出的选项中选择。" in bad.get_data(as_text=True)
    ok = post(client, f"/results/points/appeals/{appeal_id}/decide", {"result": "upheld", "decision_note": "属实"})
    assert ok.status_code == 303
    assert _reload(PointEntry, e1.id).status == "voided"


def test_entry_page_htmx_fragment(client, auth, two):
    auth.login("manager")
    full = client.get(f"/results/points/entries/{two['e1'].id}")
    frag = client.get(f"/results/points/entries/{two['e1'].id}", headers={"HX-Request": "true"})
    assert "<html" in full.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in frag.get_data(as_text=True)
    assert "#" + str(two["e1"].id) in frag.get_data(as_text=True)


def test_appeals_list_htmx_and_bad_status(client, auth, two):
    auth.login("manager")
    frag = client.get("/results/points/appeals/?status=pending", headers={"HX-Request": "true"})
    assert frag.status_code == 200 and "<html" not in frag.get_data(as_text=True)
    assert client.get("/results/points/appeals/?status=nope").status_code == 400


def test_dept_head_lists_only_own_department_appeals(client, auth, two):
    appeal_entry(two["e2"], two["users"]["head2"], "二部的申诉")
    db.session.commit()
    auth.login("head1")
    assert "二部的申诉" not in client.get("/results/points/appeals/").get_data(as_text=True)
    auth.logout()
    auth.login("head2")
    assert "二部的申诉" in client.get("/results/points/appeals/").get_data(as_text=True)
