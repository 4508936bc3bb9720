"""Notification preferences: one's own page (CSRF, hostile values → 400), channel per kind respected
by notify(), quiet hours delay (never drop), and the daily digest (one email per person per day)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from
from webapp.extensions import db
from webapp.notifications.models import UserNotificationPreference
from webapp.notifications.operations import notify
from webapp.notifications.preferences import quiet_until, send_digests, set_preferences
from webapp.outbox import operations as outbox
from webapp.outbox.models import OutboxMessage


@pytest.fixture
def app_config():
    return {"MAIL_CATCHER": True, "PUBLIC_URL": "https://supervision.example.cn"}


def _mail():
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email")
                                   .order_by(OutboxMessage.id)))


def _page_token(client):
    return csrf_from(client.get("/account/notifications").get_data(as_text=True))


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_page_renders_own_preferences(client, auth, world, lang):
    auth.login("sup1")
    r = client.get("/account/notifications", headers={"Accept-Language": lang})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert ("Quiet hours" in html) == (lang == "en") and ("免打扰时段" in html) == (lang == "zh-CN")
    assert 'value="report_approved" checked' in html


def test_save_own_preferences_only(client, auth, world):
    u = world["users"]
    auth.login("sup1")
    r = client.post("/account/notifications", data={
        "csrf_token": _page_token(client), "email": ["report_returned"], "workapp": [],
        "quiet_start": "22:00", "quiet_end": "07:30", "email_digest": "true", "user_id": u["head1"].id})
    assert r.status_code == 303
    db.session.rollback()
    pref = db.session.get(UserNotificationPreference, u["sup1"].id)
    assert "report_approved" in pref.off["email"] and "report_returned" not in pref.off["email"]
    assert pref.quiet_start == "22:00" and pref.email_digest is True
    assert db.session.get(UserNotificationPreference, u["head1"].id) is None


def test_signed_out_and_csrf(client, auth, world):
    assert client.get("/account/notifications").status_code == 302
    auth.login("staff1")
    assert client.post("/account/notifications", data={"quiet_start": "22:00"}).status_code == 400
    assert db.session.scalar(select(UserNotificationPreference)) is None


@pytest.mark.parametrize("change", [
    {"quiet_start": "25:00", "quiet_end": "07:00"},
    {"quiet_start": "22:00"},
    {"quiet_start": "=1+1", "quiet_end": "07:00"},
    {"quiet_start": "x" * 10000, "quiet_end": "07:00"},
    {"email": ["not_a_kind"]},
    {"email_digest": "maybe"},
])
def test_hostile_values_400(client, auth, world, change):
    auth.login("sup1")
    r = client.post("/account/notifications", data={"csrf_token": _page_token(client), **change})
    assert r.status_code == 400
    assert db.session.scalar(select(UserNotificationPreference)) is None


def test_email_off_by_kind(app, world):
    sup = world["users"]["sup1"]
    sup.email = "sup1@example.cn"
    set_preferences(sup, {"email": ["report_approved"]}, None, None, False)
    notify([sup], "report_approved", "周报")
    notify([sup], "report_returned", "周报")
    db.session.commit()
    assert [m.event for m in _mail()] == ["notification.report_returned"]


def test_quiet_hours_delay_to_their_end(app, world, pinned_clock):
    sup = world["users"]["sup1"]
    sup.email = "sup1@example.cn"
    set_preferences(sup, {}, "22:00", "07:30", False)
    pinned_clock.move_to(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))  # 23:00 Shanghai
    notify([sup], "report_approved", "周报")
    db.session.commit()
    (m,) = _mail()
    assert m.status == "pending"
    assert abs(m.next_attempt_at - datetime(2026, 11, 20, 23, 30, tzinfo=UTC)) < timedelta(seconds=2)  # 07:30
    assert outbox.deliver_due().claimed == 0
    pinned_clock.move_to(datetime(2026, 11, 20, 23, 31, tzinfo=UTC))
    assert outbox.deliver_due().sent == 1
    pref = db.session.get(UserNotificationPreference, sup.id)
    assert quiet_until(pref, datetime(2026, 11, 20, 5, 0, tzinfo=UTC)) is None  # 13:00: not quiet


def test_daily_digest_once_per_day(app, world, pinned_clock):
    sup = world["users"]["sup1"]
    sup.email = "sup1@example.cn"
    set_preferences(sup, {}, None, None, True)
    notify([sup], "report_approved", "周报一")
    notify([sup], "report_returned", "周报二")
    db.session.commit()
    assert {m.status for m in _mail()} == {"digest"}
    assert outbox.deliver_due().claimed == 0
    assert send_digests() == 0  # today's items wait for tomorrow's digest
    pinned_clock.move_to(datetime(2026, 11, 21, 0, 0, tzinfo=UTC))  # 08:00 Shanghai the next day
    assert send_digests() == 1
    db.session.commit()
    assert send_digests() == 0  # the same day again: nothing more
    db.session.commit()
    (digest,) = [m for m in _mail() if m.event == "notification.digest"]
    assert digest.idempotency_key == f"digest:{sup.id}:{date(2026, 11, 21).isoformat()}"
    assert "周报一" in digest.payload["body"] and "周报二" in digest.payload["body"]
    assert {m.status for m in _mail() if m.event != "notification.digest"} == {"digested"}
    assert outbox.deliver_due().sent == 1
    pinned_clock.shift(timedelta(days=1))
    assert send_digests() == 0
