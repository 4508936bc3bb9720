"""Snoozing a warning (issue #19): a manager hides a live warning until a date with a reason; it leaves
the open list and the counts, and is back on that day by itself (the list's query, no cron needed;
the daily check then records it). Who, when and why are in the warning's history. Authorization,
CSRF and hostile input on the form."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.review_helpers import post
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.models import Warning, WarningRule
from webapp.results.warnings.operations import (
    WarningError,
    check_warnings,
    close_warning,
    open_warning_count,
    snooze_warning,
)

HX = {"HX-Request": "true"}
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
TODAY = date(2026, 11, 20)


@pytest.fixture
def warning(world, create_finding):
    db.session.add(WarningRule(kind="high_severity_open", threshold=7, active=True, params={}))
    create_finding(world["visits"][0], "高风险问题", severity="high", captured_at=datetime.now(UTC) - timedelta(days=20))
    db.session.commit()
    check_warnings()
    db.session.commit()
    return db.session.scalar(select(Warning))


def _history(w):
    db.session.expire_all()
    return [(e.action, e.user_id, e.data) for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "warning", AuditEntry.entity_id == w.id)
        .order_by(AuditEntry.id))]


def test_snooze_hides_then_wakes_on_the_day(app, world, warning, pinned_clock, client, auth):
    manager = world["users"]["manager"]
    assert open_warning_count() == 1
    snooze_warning(warning, manager, TODAY + timedelta(days=7), "设备已报修，等厂家上门", TODAY)
    db.session.commit()
    assert open_warning_count() == 0
    auth.login("manager")
    page = client.get("/results/warnings/", headers=EN).get_data(as_text=True)
    assert f'id="w-{warning.id}"' not in page and "No warnings here." in page
    snoozed = client.get("/results/warnings/?status=snoozed", headers=EN).get_data(as_text=True)
    assert f'id="w-{warning.id}"' in snoozed and "设备已报修，等厂家上门" in snoozed and "2026-11-27" in snoozed

    pinned_clock.move_to(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))  # the day before: still snoozed
    assert open_warning_count() == 0
    pinned_clock.move_to(datetime(2026, 11, 27, 1, 0, tzinfo=UTC))  # 09:00 in Shanghai on the 27th
    assert open_warning_count() == 1  # back by the list's own query, before any check ran
    page = client.get("/results/warnings/", headers=EN).get_data(as_text=True)
    assert f'id="w-{warning.id}"' in page

    result = check_warnings()  # the daily check records the wake-up and clears the snooze
    db.session.commit()
    assert [w.id for w in result.woke] == [warning.id] and result.raised == []
    db.session.refresh(warning)
    assert warning.snoozed_until is None and warning.status == "open"
    actions = [a for a, _u, _d in _history(warning)]
    assert actions == ["warning.raised", "warning.snoozed", "warning.woke"]
    assert _history(warning)[1] == ("warning.snoozed", manager.id,
                                    {"until": "2026-11-27", "reason": "设备已报修，等厂家上门"})


def test_snooze_form_then_history_page(client, auth, world, warning):
    auth.login("manager")
    resp = post(client, f"/results/warnings/{warning.id}/snooze", {"days": "14", "reason": "  已安排整改  ", "tab": "open"},
                headers=EN)
    assert resp.status_code == 303 and resp.location.endswith("status=open")
    db.session.expire_all()
    w = db.session.get(Warning, warning.id)
    assert (w.snoozed_until, w.snoozed_by, w.snooze_reason) == (TODAY + timedelta(days=14), world["users"]["manager"].id,
                                                                 "已安排整改")
    detail = client.get(f"/results/warnings/{warning.id}", headers=ZH).get_data(as_text=True)
    assert "已安排整改" in detail and "暂缓至 2026-12-04" in detail and "manager" in detail
    # htmx: until a date, the list block comes back
    w2 = post(client, f"/results/warnings/{warning.id}/wake", {"tab": "snoozed"}, headers={**HX, **EN})
    assert w2.status_code == 200 and "<html" not in w2.get_data(as_text=True)
    resp = post(client, f"/results/warnings/{warning.id}/snooze", {"until": "2026-12-01", "reason": "等配件"},
                headers={**HX, **EN})
    assert resp.status_code == 200 and "The warning is snoozed until 2026-12-01." in resp.get_data(as_text=True)
    assert [a for a, _u, _d in _history(warning)] == ["warning.raised", "warning.snoozed", "warning.unsnoozed",
                                                      "warning.snoozed"]


@pytest.mark.parametrize(("form", "message"), [
    ({"days": "7", "reason": "x" * 10000}, "This text is too long."),
    ({"days": "7", "reason": "坏\x00字符"}, "Remove the control characters from this text."),
    ({"days": "7", "reason": "\x07\x1b"}, "Remove the control characters from this text."),
    ({"days": "7", "reason": "   "}, "Say why the warning is snoozed."),
    ({"days": "7"}, "Say why the warning is snoozed."),
    ({"days": "5", "reason": "r"}, "Choose one of the offered options."),
    ({"reason": "r"}, "Choose for how long, or a date."),
    ({"until": "2026-11-20", "reason": "r"}, "Choose a date from tomorrow to 90 days ahead."),
    ({"until": "2027-03-01", "reason": "r"}, "Choose a date from tomorrow to 90 days ahead."),
    ({"until": "not-a-date", "reason": "r"}, "Enter a valid date (YYYY-MM-DD)."),
])
def test_bad_snooze_input_is_a_clear_400(client, auth, warning, form, message):
    auth.login("manager")
    resp = post(client, f"/results/warnings/{warning.id}/snooze", form, headers=EN)
    assert resp.status_code == 400 and message in resp.get_data(as_text=True), resp.get_data(as_text=True)[-3000:]
    db.session.expire_all()
    assert db.session.get(Warning, warning.id).snoozed_until is None


def test_bad_input_in_chinese(client, auth, warning):
    auth.login("manager")
    resp = post(client, f"/results/warnings/{warning.id}/snooze", {"days": "7", "reason": ""}, headers={**HX, **ZH})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "预警未暂缓：" in body and "<html" not in body


def test_snooze_needs_the_csrf_token(client, auth, warning):
    auth.login("manager")
    resp = client.post(f"/results/warnings/{warning.id}/snooze", data={"days": "7", "reason": "r"})
    assert resp.status_code == 400
    db.session.expire_all()
    assert db.session.get(Warning, warning.id).snoozed_until is None


@pytest.mark.parametrize(("who", "status"), [("head1", 403), ("sup1", 403), ("staff1", 403), ("admin", 303),
                                             ("manager", 303)])
def test_who_may_snooze(client, auth, warning, who, status):
    auth.login(who)
    resp = post(client, f"/results/warnings/{warning.id}/snooze", {"days": "7", "reason": "r"})
    assert resp.status_code == status
    assert client.get(f"/results/warnings/{warning.id}").status_code == (200 if status == 303 else 403)
    db.session.expire_all()
    assert (db.session.get(Warning, warning.id).snoozed_until is not None) == (status == 303)


def test_a_guessed_id_is_404_for_management(client, auth, warning):
    auth.login("manager")
    assert post(client, "/results/warnings/no-such-id/snooze", {"days": "7", "reason": "r"}).status_code == 404
    assert client.get("/results/warnings/no-such-id").status_code == 404


def test_operation_refuses_wrong_role_and_closed_warning(world, warning):
    with pytest.raises(WarningError) as e:
        snooze_warning(warning, world["users"]["head1"], TODAY + timedelta(days=7), "r", TODAY)
    assert e.value.status == 403
    close_warning(warning, world["users"]["manager"])
    with pytest.raises(WarningError) as e:
        snooze_warning(warning, world["users"]["manager"], TODAY + timedelta(days=7), "r", TODAY)
    assert e.value.status == 409
