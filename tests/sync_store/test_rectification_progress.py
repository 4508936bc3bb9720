"""The sync policy of a department head's rectification progress (`rectification_update`) and the
request for acceptance it may carry (`submit`): the desk's rules, through the public push API."""

from datetime import date

import pytest
from sqlalchemy import select

from tests.sync.conftest import Device, new_id
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.models import Finding
from webapp.notifications.models import Notification
from webapp.rectification import operations as ops
from webapp.rectification.models import Rectification, RectificationUpdate

DEADLINE = date(2026, 12, 20)  # after the pinned today


@pytest.fixture
def phones(world, client):
    return {name: Device(client, world["users"][name]) for name in ("head1", "head2", "sup1", "staff1")}


@pytest.fixture
def rectifying(world):
    f = world["findings"][0]  # department 1's
    ops.submit_plan(f, world["users"]["head1"], "清理消防通道", "吴敏", DEADLINE)
    db.session.commit()
    return f


def _rect(finding_id):
    db.session.expire_all()
    return db.session.scalar(select(Rectification).where(Rectification.finding_id == finding_id))


def test_progress_with_a_photo_and_the_submission_go_through_the_desks_operation(world, phones, rectifying):
    sha = "ab" * 32  # a photo may come after its record (missing_photos)
    uid = new_id()
    res = phones["head1"].push_one("rectification_update", uid, {
        "finding_id": rectifying.id, "progress": 100, "note": "通道已清空", "photos": [sha], "submit": True})
    assert res["status"] == "applied", res
    rect = _rect(rectifying.id)
    assert rect.status == "pending_acceptance"
    assert db.session.get(Finding, rectifying.id).status == "pending_acceptance"
    upd = db.session.get(RectificationUpdate, uid)
    assert upd.submit is True and upd.author_id == world["users"]["head1"].id and upd.photos == [sha]
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == rect.id)))
    assert {"rectification.progress", "rectification.pending_acceptance"} <= actions
    # the supervisor is told, as when the head submits on the desk
    assert db.session.scalar(select(Notification).where(Notification.user_id == world["users"]["sup1"].id,
                                                        Notification.kind == "acceptance_to_do"))


def test_another_departments_rectification_is_refused(world, phones, rectifying):
    for who in ("head2", "sup1", "staff1"):
        res = phones[who].push_one("rectification_update", new_id(), {
            "finding_id": rectifying.id, "progress": 100, "note": "x", "submit": True})
        assert res["status"] == "rejected", (who, res)
    assert _rect(rectifying.id).status == "rectifying"
    assert db.session.scalar(select(RectificationUpdate.id)) is None


def test_a_closed_rectification_is_refused(world, phones, rectifying):
    ops.submit_for_acceptance(rectifying, world["users"]["head1"])
    ops.decide_acceptance(rectifying, world["users"]["sup1"], "pass")
    db.session.commit()
    for data in ({"progress": 50, "note": "再补充"}, {"progress": 100, "note": "再补充", "submit": True}):
        res = phones["head1"].push_one("rectification_update", new_id(), {"finding_id": rectifying.id, **data})
        assert res["status"] == "rejected"
        assert "整改" in res["errors"]["finding_id"][0]  # the desk's message, in the user's language
    assert _rect(rectifying.id).status == "accepted"
    assert db.session.get(Finding, rectifying.id).status == "closed"


def test_a_submission_awaiting_acceptance_is_not_submitted_twice(world, phones, rectifying):
    assert phones["head1"].push_one("rectification_update", new_id(), {
        "finding_id": rectifying.id, "progress": 100, "submit": True})["status"] == "applied"
    res = phones["head1"].push_one("rectification_update", new_id(), {
        "finding_id": rectifying.id, "progress": 100, "submit": True})
    assert res["status"] == "rejected" and res["errors"]["finding_id"]
    assert len(db.session.scalars(select(RectificationUpdate)).all()) == 1


def test_a_submission_without_a_plan_is_refused(world, phones):
    f = world["findings"][0]  # open: no rectification plan, so no progress and no submission
    res = phones["head1"].push_one("rectification_update", new_id(), {"finding_id": f.id, "progress": 100,
                                                                      "submit": True})
    assert res["status"] == "rejected"
    assert db.session.get(Finding, f.id).status == "open"


def test_the_submission_cannot_be_added_or_taken_back_later(world, phones, rectifying):
    uid = new_id()
    assert phones["head1"].push_one("rectification_update", uid, {
        "finding_id": rectifying.id, "progress": 60, "note": "一半"})["status"] == "applied"
    res = phones["head1"].push_one("rectification_update", uid, {"submit": True}, base_version=1)
    assert res["status"] == "rejected" and "submit" in res["errors"]
    assert _rect(rectifying.id).status == "rectifying"
    # echoing the stored value is harmless
    assert phones["head1"].push_one("rectification_update", uid, {"submit": False, "progress": 70},
                                    base_version=1)["status"] == "applied"


def test_a_refusal_is_in_english_for_an_english_user(world, client, rectifying):
    head2 = world["users"]["head2"]
    head2.locale = "en"
    db.session.commit()
    res = Device(client, head2).push_one("rectification_update", new_id(), {"finding_id": rectifying.id,
                                                                             "progress": 10, "submit": True})
    assert res["status"] == "rejected"
    assert "department" in res["errors"]["finding_id"][0]


def test_a_head_pulls_the_rectification_feed_of_their_department_only(world, phones, rectifying):
    r = phones["head1"].get("/api/v1/rectifications")
    assert r.status_code == 200
    rows = r.get_json()["rectifications"]
    assert [x["finding_id"] for x in rows] == [rectifying.id]
    assert rows[0]["deadline"] == DEADLINE.isoformat() and rows[0]["status"] == "rectifying"
    assert phones["head2"].get("/api/v1/rectifications").get_json()["rectifications"] == []
    assert Device(phones["head1"].client, world["users"]["staff1"]).get("/api/v1/rectifications").status_code == 200
