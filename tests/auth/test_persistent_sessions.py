"""A phone stays signed in: the session cookie lasts SESSION_LIFETIME_DAYS, the server-side record
expires with it, and a session in use is renewed (at most hourly). When a sign-in no longer counts
the API says why: account_disabled, session_expired or signed_out."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.auth.test_sessions import cookie_of, new_client, signed_in_client, with_cookie
from webapp.auth.models import UserSession
from webapp.auth.operations import deactivate_user, start_session
from webapp.extensions import db

PUSH = {"device_id": "b7c7a3c2-9f5e-4d0e-8a47-3f7a3a1f0c11", "mutations": []}
PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/126.0 Mobile Safari/537.36")


def session_cookie_expiry(resp) -> datetime:
    header = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))
    expires = next(p.split("=", 1)[1] for p in header.split("; ") if p.lower().startswith("expires="))
    return datetime.strptime(expires, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)


def sync_round(c):
    """What the phone does: ask who it is (and for a CSRF token), push, pull."""
    r = c.get("/m/session.json")
    if r.status_code != 200:
        return r
    csrf = r.get_json()["csrf_token"]
    r = c.post("/api/v1/sync/push", json=PUSH, headers={"X-CSRFToken": csrf})
    if r.status_code != 200:
        return r
    return c.get("/api/v1/sync/pull?limit=10")


def the_row() -> UserSession:
    db.session.expire_all()
    return db.session.scalars(select(UserSession)).one()


def test_sign_in_sets_a_cookie_that_lasts_the_configured_lifetime(app, create_user):
    app.config["SESSION_LIFETIME_DAYS"] = 30
    create_user("zhang")
    c = new_client(app)
    from tests.conftest import csrf_from

    page = c.get("/login").get_data(as_text=True)
    r = c.post("/login", data={"username": "zhang", "password": "correct-horse-battery", "csrf_token": csrf_from(page)},
               headers={"User-Agent": PHONE + "\x00\x07" + " x" * 400}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert r.status_code == 302
    expiry = session_cookie_expiry(r)
    now = datetime.now(UTC)
    assert timedelta(days=30) - timedelta(minutes=1) < expiry - now <= timedelta(days=30)
    row = the_row()
    assert abs((row.expires_at - expiry).total_seconds()) < 60
    assert row.method == "password" and row.address == "10.1.2.3"
    assert row.user_agent.startswith("Mozilla/5.0 (Linux; Android 14") and len(row.user_agent) <= 300
    assert "\x00" not in row.user_agent and "\x07" not in row.user_agent


def test_the_lifetime_comes_from_the_environment_setting(app, create_user):
    app.config["SESSION_LIFETIME_DAYS"] = 7
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(days=7)
    create_user("zhang")
    c = signed_in_client(app, "zhang")
    row = the_row()
    assert timedelta(days=7) - timedelta(minutes=1) < row.expires_at - datetime.now(UTC) <= timedelta(days=7)
    assert c.get_cookie("session").expires is not None


def test_start_session_stays_backward_compatible_and_records_the_method(app, create_user):
    user = create_user("zhang")
    with app.test_request_context(headers={"User-Agent": "Mozilla/5.0 (iPhone) wxwork/4.1"}):
        start_session(user)
        start_session(user, method="wecom")
    db.session.commit()
    rows = db.session.scalars(select(UserSession).order_by(UserSession.id)).all()
    assert [r.method for r in rows] == ["password", "wecom"]
    assert all(r.expires_at is not None and r.user_agent.endswith("wxwork/4.1") for r in rows)


def test_a_phone_holding_only_the_cookie_a_day_later_still_syncs(app, create_user, pinned_clock):
    create_user("zhang")
    saved = cookie_of(signed_in_client(app, "zhang"))
    pinned_clock.shift(timedelta(days=1))
    phone = with_cookie(app, saved)  # the browser was closed: a new process, the same cookie
    assert sync_round(phone).status_code == 200
    assert phone.get("/account/").status_code == 200


def test_after_the_lifetime_without_use_the_phone_is_told_its_sign_in_expired(app, create_user, pinned_clock):
    create_user("zhang")
    saved = cookie_of(signed_in_client(app, "zhang"))
    pinned_clock.shift(timedelta(days=30, minutes=1))
    phone = with_cookie(app, saved)
    r = phone.get("/m/session.json")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "session_expired"
    assert "过期" in r.get_json()["error"]["message"]
    r = phone.post("/api/v1/sync/push", json=PUSH)
    assert r.status_code in (400, 401)  # no CSRF token to be had; and with one:
    r = phone.get("/api/v1/sync/pull")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "session_expired"
    browser = with_cookie(app, saved).get("/")
    assert browser.status_code == 302 and "/login" in browser.headers["Location"]


def test_a_session_in_use_is_renewed_at_most_hourly(app, create_user, pinned_clock):
    create_user("zhang")
    c = signed_in_client(app, "zhang")
    first = the_row()
    signed_in_expiry, seen = first.expires_at, first.last_seen_at
    pinned_clock.shift(timedelta(minutes=20))
    assert c.get("/m/session.json").status_code == 200
    assert the_row().last_seen_at == seen and the_row().expires_at == signed_in_expiry  # no write this soon
    pinned_clock.shift(timedelta(minutes=50))  # over an hour since the last renewal
    r = c.get("/m/session.json")  # a GET: on SQLite its own short write transaction
    assert r.status_code == 200
    renewed = the_row()
    assert renewed.expires_at > signed_in_expiry + timedelta(minutes=60)
    assert renewed.last_seen_at > seen
    assert session_cookie_expiry(r) >= renewed.expires_at - timedelta(seconds=5)  # the cookie too
    # Used within its lifetime from the renewal, it lasts past the first lifetime.
    saved = cookie_of(c)
    pinned_clock.shift(timedelta(days=29, hours=23))
    assert sync_round(with_cookie(app, saved)).status_code == 200


def test_a_poll_in_the_background_does_not_keep_a_sign_in_alive(app, create_user, pinned_clock):
    # The review queue's poll (webapp/findings/views.py, @background) is not use: an open tab asking
    # every 15 seconds leaves the expiry where the last real request put it.
    create_user("wang", role="manager")
    c = signed_in_client(app, "wang")
    expires, seen = the_row().expires_at, the_row().last_seen_at
    pinned_clock.shift(timedelta(hours=2))
    assert c.get("/findings/review/awaiting?last=-1").status_code == 200
    assert (the_row().expires_at, the_row().last_seen_at) == (expires, seen)
    assert c.get("/findings/review").status_code == 200  # the page itself is use
    assert the_row().expires_at > expires + timedelta(hours=1)


def test_a_post_renews_inside_its_own_transaction(app, create_user, pinned_clock):
    create_user("zhang")
    c = signed_in_client(app, "zhang")
    csrf = c.get("/m/session.json").get_json()["csrf_token"]
    before = the_row().expires_at
    pinned_clock.shift(timedelta(hours=2))
    assert c.post("/api/v1/sync/push", json=PUSH, headers={"X-CSRFToken": csrf}).status_code == 200
    assert the_row().expires_at > before + timedelta(hours=1)


def test_a_disabled_users_phone_is_told_so_in_chinese(app, create_user):
    user = create_user("zhang")
    phone = signed_in_client(app, "zhang")
    csrf = phone.get("/m/session.json").get_json()["csrf_token"]
    deactivate_user(user)
    db.session.commit()
    for r in (phone.get("/m/session.json"), phone.get("/api/v1/sync/pull"),
              phone.post("/api/v1/sync/push", json=PUSH, headers={"X-CSRFToken": csrf})):
        assert r.status_code == 401
        error = r.get_json()["error"]
        assert error["code"] == "account_disabled"
        assert "账号已被管理员停用" in error["message"]
    english = phone.get("/m/session.json", headers={"Accept-Language": "en"})
    assert english.status_code == 401


def test_a_signed_out_device_is_told_so(app, create_user):
    create_user("zhang")
    phone = signed_in_client(app, "zhang")
    row = the_row()
    row.ended_at = datetime.now(UTC)
    db.session.commit()
    r = phone.get("/api/v1/sync/pull")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "signed_out"


@pytest.mark.parametrize("path", ["/m/session.json", "/api/v1/sync/pull"])
def test_no_cookie_at_all_is_plain_unauthorized(app, path):
    r = new_client(app).get(path)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
