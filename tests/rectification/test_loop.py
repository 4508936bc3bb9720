"""The rectification loop: every transition, who may do it, what it records and who is told."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.findings.operations import NotAllowed, WorkflowError
from webapp.notifications.models import Notification
from webapp.rectification import operations as ops
from webapp.rectification.models import AcceptanceRound, RectificationUpdate

LATER = date(2026, 11, 30)  # ten days after the pinned today (tests/conftest.py)


def _plan(world):
    f = world["findings"][0]
    ops.submit_plan(f, world["users"]["head1"], "补齐签字", "员工甲", LATER)
    db.session.commit()
    return f


def test_full_loop_two_rounds(world):
    f, head, sup = world["findings"][0], world["users"]["head1"], world["users"]["sup1"]
    rect = ops.submit_plan(f, head, "补齐签字", "员工甲", LATER)
    assert f.status == "rectifying" and rect.round == 1
    ops.add_progress(f, head, "完成一半", 50, [])
    ops.submit_for_acceptance(f, head)
    assert f.status == "pending_acceptance"
    ops.decide_acceptance(f, sup, "fail", "签字不全", LATER + timedelta(days=5))
    assert (f.status, rect.status, rect.round, rect.deadline) == ("rectifying", "rectifying", 2, LATER + timedelta(days=5))
    ops.submit_for_acceptance(f, head)
    ops.decide_acceptance(f, sup, "pass")
    db.session.commit()
    assert (f.status, rect.status, rect.round) == ("closed", "accepted", 2)
    rounds = db.session.scalars(select(AcceptanceRound).order_by(AcceptanceRound.id)).all()
    assert [(r.round, r.result) for r in rounds] == [(1, "fail"), (2, "pass")]
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "finding")
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["finding.rectifying", "finding.pending_acceptance", "finding.rectifying",
                       "finding.pending_acceptance", "finding.closed"]
    kinds = sorted(db.session.scalars(select(Notification.kind)).all())
    assert kinds == ["acceptance_failed", "acceptance_passed", "acceptance_to_do", "acceptance_to_do"]


@pytest.mark.parametrize("who,allowed", [("head1", True), ("head2", False), ("sup1", False), ("manager", False),
                                         ("staff1", False)])
def test_only_the_responsible_head_submits_plan(world, who, allowed):
    f = world["findings"][0]
    if allowed:
        ops.submit_plan(f, world["users"][who], "m", "o", LATER)
        assert f.status == "rectifying"
    else:
        with pytest.raises(NotAllowed):
            ops.submit_plan(f, world["users"][who], "m", "o", LATER)


@pytest.mark.parametrize("who,allowed", [("sup1", True), ("manager", True), ("admin", True), ("sup2", False),
                                         ("head1", False)])
def test_who_decides_acceptance(world, who, allowed):
    f = _plan(world)
    ops.submit_for_acceptance(f, world["users"]["head1"])
    if allowed:
        ops.decide_acceptance(f, world["users"][who], "pass")
        assert f.status == "closed"
    else:
        with pytest.raises(NotAllowed):
            ops.decide_acceptance(f, world["users"][who], "pass")


@pytest.mark.parametrize("step", ["progress", "submit", "decide"])
def test_steps_out_of_order_are_refused(world, step):
    f, head, sup = world["findings"][0], world["users"]["head1"], world["users"]["sup1"]
    with pytest.raises(WorkflowError):
        {"progress": lambda: ops.add_progress(f, head, None, 10),
         "submit": lambda: ops.submit_for_acceptance(f, head),
         "decide": lambda: ops.decide_acceptance(f, sup, "pass")}[step]()
    assert f.status == "open"


@pytest.mark.parametrize("reason,deadline", [(None, LATER), ("  ", LATER), ("不合格", None),
                                             ("不合格", date(2026, 11, 19))])
def test_failing_needs_reason_and_future_deadline(world, reason, deadline):
    f = _plan(world)
    ops.submit_for_acceptance(f, world["users"]["head1"])
    with pytest.raises(WorkflowError):
        ops.decide_acceptance(f, world["users"]["sup1"], "fail", reason, deadline)


def test_past_deadline_plan_refused(world):
    with pytest.raises(WorkflowError):
        ops.submit_plan(world["findings"][0], world["users"]["head1"], "m", "o", date.today() - timedelta(days=1))


def test_overdue_listed_and_notified_once_a_day(world):
    f = _plan(world)
    rect = ops.rectification_for(f)
    rect.deadline = date.today() - timedelta(days=2)
    db.session.commit()
    assert ops.notify_overdue() == 2  # head1 and sup1
    assert ops.notify_overdue() == 0
    db.session.commit()


def test_coordination_notifies_the_other_department(world):
    f = world["findings"][0]
    ops.add_coordination(f, world["users"]["sup1"], "需要二部协助", world["depts"][1].id)
    db.session.commit()
    n = db.session.scalars(select(Notification)).all()
    assert [(x.user_id, x.kind) for x in n] == [(world["users"]["head2"].id, "coordination")]


# ---- HTTP -----------------------------------------------------------------------------------

def _post(client, path, **data):
    db.session.rollback()  # SQLite: the test's own open transaction would hold the write lock
    token = csrf_from(client.get("/").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def _get(client, path):
    db.session.rollback()
    return client.get(path)


def test_views_run_the_loop(client, auth, world):
    f = world["findings"][0]
    fid = f.id
    auth.login("head1")
    r = _post(client, f"/rectification/{fid}/plan", measures="整改措施", owner="员工甲", deadline=LATER.isoformat())
    assert r.status_code == 303
    r = _post(client, f"/rectification/{fid}/progress", progress="60", note="进行中")
    assert r.status_code == 303
    assert db.session.scalar(select(RectificationUpdate.progress)) == 60
    db.session.rollback()
    assert _post(client, f"/rectification/{fid}/submit").status_code == 303
    auth.logout()
    auth.login("sup1")
    r = _post(client, f"/rectification/{fid}/decide", result="fail", reason="")
    assert r.status_code == 409 and "reason" in r.get_data(as_text=True).lower() or "原因" in r.get_data(as_text=True)
    r = _post(client, f"/rectification/{fid}/decide", result="fail", reason="不彻底",
              new_deadline=(LATER + timedelta(days=3)).isoformat())
    assert r.status_code == 303
    page = _get(client, f"/rectification/{fid}").get_data(as_text=True)
    assert "不彻底" in page


def test_bad_input_keeps_what_was_typed(client, auth, world):
    fid = world["findings"][0].id
    auth.login("head1")
    r = _post(client, f"/rectification/{fid}/plan", measures="我的整改措施", owner="", deadline="")
    assert r.status_code == 400
    assert "我的整改措施" in r.get_data(as_text=True)


@pytest.mark.parametrize("who,status", [("head2", 404), ("sup2", 404), ("head1", 200), ("manager", 200)])
def test_detail_is_scoped(client, auth, world, who, status):
    auth.login(who)
    fid = world["findings"][0].id
    assert _get(client, f"/rectification/{fid}").status_code == status


def test_index_lists_overdue(client, auth, world):
    f = _plan(world)
    ops.rectification_for(f).deadline = date.today() - timedelta(days=1)
    title = f.title
    db.session.commit()
    auth.login("head1")
    page = _get(client, "/rectification/?overdue=1").get_data(as_text=True)
    assert title in page


def test_progress_photo_upload(client, auth, world, app):
    import io

    from PIL import Image

    fid = _plan(world).id
    db.session.rollback()
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, "JPEG")
    auth.login("head1")
    token = csrf_from(client.get("/").get_data(as_text=True))
    r = client.post(f"/rectification/{fid}/progress", data={
        "csrf_token": token, "progress": "30", "photos": (io.BytesIO(buf.getvalue()), "p.jpg")},
        content_type="multipart/form-data")
    assert r.status_code == 303
    upd = db.session.scalar(select(RectificationUpdate))
    assert len(upd.photos) == 1
    db.session.rollback()
    r = client.post(f"/rectification/{fid}/progress", data={
        "csrf_token": token, "progress": "40", "photos": (io.BytesIO(b"not an image"), "x.jpg")},
        content_type="multipart/form-data")
    assert r.status_code == 400
