"""Trusted time: the device clock sent with every push, the offset per push, capture / received /
estimated times per record, and the flag on the desk."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.evidence.conftest import new_id
from webapp.evidence.models import RecordEvidence
from webapp.evidence.operations import offset_words, parse_device_time
from webapp.extensions import db


def _finding(dev, visit, captured):
    fid = new_id()
    res = dev.push_one("finding", fid, {"visit_id": visit.id, "title": "地面湿滑", "captured_at": captured.isoformat()})
    assert res["status"] == "applied", res
    return fid


def test_offset_recorded_per_push(world, clock_device):
    dev = clock_device(world["users"]["sup1"], skew=timedelta(minutes=-2))
    captured = dev.now() - timedelta(minutes=30)
    fid = _finding(dev, world["visits"][0], captured)
    ev = db.session.scalar(select(RecordEvidence).where(RecordEvidence.record_id == fid))
    assert ev.entity == "finding" and ev.device_id == dev.device_id
    assert ev.offset_seconds == pytest.approx(120, abs=2)
    assert ev.captured_device == captured
    assert abs((ev.estimated_at - (captured + timedelta(seconds=120))).total_seconds()) < 2
    assert ev.flagged is False  # 2 minutes < CLOCK_SKEW_FLAG_SECONDS (300)
    # an edit later keeps the first receipt as the evidence
    dev.skew = timedelta(0)
    assert dev.push_one("finding", fid, {"title": "地面湿滑（已补充）"}, base_version=1)["status"] == "applied"
    assert db.session.scalars(select(RecordEvidence).where(RecordEvidence.record_id == fid)).one().offset_seconds \
        == pytest.approx(120, abs=2)


def test_checklist_answer_uses_client_time(world, clock_device):
    dev = clock_device(world["users"]["sup1"], skew=timedelta(hours=-1))
    aid = new_id()
    item = world["visits"][0].template.items[0]
    res = dev.push_one("checklist_answer", aid, {"visit_id": world["visits"][0].id, "item_id": item.id, "result": "pass"})
    assert res["status"] == "applied", res
    ev = db.session.scalar(select(RecordEvidence).where(RecordEvidence.record_id == aid))
    assert ev.flagged and ev.offset_seconds == pytest.approx(3600, abs=2)


def test_header_when_body_has_none(world, device):
    dev = device(world["users"]["sup1"])
    behind = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    fid = new_id()
    m = dev.mutation("finding", fid, {"visit_id": world["visits"][0].id, "title": "t"})
    db.session.commit()
    r = dev.client.post("/api/v1/sync/push", json={"device_id": dev.device_id, "mutations": [m]},
                        headers={**dev.headers, "X-Device-Time": behind})
    assert r.status_code == 200
    ev = db.session.scalar(select(RecordEvidence).where(RecordEvidence.record_id == fid))
    assert ev.flagged and ev.offset_seconds == pytest.approx(86400, abs=2)


@pytest.mark.parametrize("bad", ["yesterday", "2026-11-20T10:00:00", "", "9" * 100, 12, None, ["x"]])
def test_unreadable_device_time_is_ignored_not_refused(world, device, bad):
    dev = device(world["users"]["sup1"])
    fid = new_id()
    m = dev.mutation("finding", fid, {"visit_id": world["visits"][0].id, "title": "t"})
    db.session.commit()
    r = dev.client.post("/api/v1/sync/push", json={"device_id": dev.device_id, "mutations": [m], "device_time": bad},
                        headers=dev.headers)
    assert r.status_code == 200 and r.get_json()["results"][0]["status"] == "applied"
    ev = db.session.scalar(select(RecordEvidence).where(RecordEvidence.record_id == fid))
    assert ev.offset_seconds is None and ev.estimated_at is None and not ev.flagged


def test_offset_in_words(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        _words()
    assert parse_device_time("2026-11-20T02:00:00Z") == datetime(2026, 11, 20, 2, tzinfo=UTC)


def _words():
    assert offset_words(3 * 86400 + 20) == "device clock 3 days behind"
    assert offset_words(-300) == "device clock 5 minutes ahead"
    assert offset_words(7200) == "device clock 2 hours behind"
    assert offset_words(10) == "device clock in time"


def test_three_days_wrong_device_is_flagged_on_the_desk(world, clock_device, auth, client):
    dev = clock_device(world["users"]["sup1"], skew=timedelta(days=-3))
    fid = _finding(dev, world["visits"][0], dev.now())
    ev = db.session.scalar(select(RecordEvidence).where(RecordEvidence.record_id == fid))
    assert ev.flagged and ev.offset_seconds == pytest.approx(3 * 86400, abs=2)
    auth.login("manager")
    en = {"Accept-Language": "en"}
    page = client.get(f"/findings/{fid}", headers=en).get_data(as_text=True)
    assert "Clock flag" in page and "device clock 3 days behind" in page
    visit = client.get(f"/visits/{world['visits'][0].id}", headers=en).get_data(as_text=True)
    assert "Clock flag" in visit and "device clock 3 days behind" in visit
    client.post("/locale", data={"locale": "zh_CN"})
    zh = client.get(f"/findings/{fid}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "设备时钟慢 3 天" in zh


def test_rectification_progress_from_a_phone_gets_its_trusted_time(world, clock_device):
    """A department head's progress report pushed from a phone whose clock is 2 days behind: the
    offset is recorded and the record flagged, as for a supervisor's records."""
    from datetime import date

    from webapp.rectification import operations as rect_ops

    f = world["findings"][0]
    rect_ops.submit_plan(f, world["users"]["head1"], "补齐签字", "员工甲", date(2026, 12, 20))
    db.session.commit()
    dev = clock_device(world["users"]["head1"], skew=timedelta(days=-2))
    uid = new_id()
    m = dev.mutation("rectification_update", uid, {"finding_id": f.id, "progress": 60, "note": "已整改一半"})
    m["client_time"] = dev.now().isoformat()  # made on the device's clock
    res = dev.push(m)[0]
    assert res["status"] == "applied", res
    ev = db.session.scalar(select(RecordEvidence).where(RecordEvidence.entity == "rectification_update",
                                                        RecordEvidence.record_id == uid))
    assert ev is not None and ev.flagged and ev.offset_seconds == pytest.approx(2 * 86400, abs=5)
    assert abs((ev.estimated_at - datetime.now(UTC)).total_seconds()) < 60  # the device's time, corrected
    # an edit later keeps the first receipt
    dev.skew = timedelta(0)
    assert dev.push_one("rectification_update", uid, {"note": "已整改一半（补充）"}, base_version=1)["status"] == "applied"
    assert db.session.scalars(select(RecordEvidence).where(RecordEvidence.record_id == uid)).one().offset_seconds \
        == pytest.approx(2 * 86400, abs=5)
