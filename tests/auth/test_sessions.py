"""Sessions end when they should: sign-out, a password change and a disabled account end them on the
server, whatever copies of the cookie exist; a bearer header never rides on a session cookie."""

import pytest
from sqlalchemy import select

from tests.conftest import FreshContextClient, csrf_from
from webapp.auth.models import User, UserSession
from webapp.auth.operations import AccountError, change_password, deactivate_user, end_sessions, issue_token
from webapp.extensions import db


def new_client(app):
    """Another browser: its own cookies, and each request in its own app context."""
    app.test_client_class = FreshContextClient
    return app.test_client()


def signed_in_client(app, username):
    c = new_client(app)
    page = c.get("/login").get_data(as_text=True)
    r = c.post("/login", data={"username": username, "password": "correct-horse-battery",
                               "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    return c


def cookie_of(c) -> str:
    return c.get_cookie("session").value


def with_cookie(app, value):
    c = new_client(app)
    c.set_cookie("session", value)
    return c


def test_a_cookie_saved_before_sign_out_no_longer_works(app, client, auth, create_user):
    """Issue #21.4: the saved cookie used to keep working on /api/v1/me and every page."""
    create_user("zhang")
    auth.login("zhang")
    saved = cookie_of(client)
    assert with_cookie(app, saved).get("/api/v1/me").status_code == 200
    assert auth.logout().status_code == 302
    replay = with_cookie(app, saved)
    r = replay.get("/api/v1/me")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "signed_out"  # says why (webapp/auth/loaders.py refusal)
    assert replay.get("/").status_code == 302
    assert db.session.scalars(select(UserSession.ended_at)).one() is not None


def test_a_signed_cookie_without_a_live_session_record_is_refused(app, create_user):
    """A cookie signed with the right key but naming no server-side session (as sign-in made them
    before) is no sign-in."""
    user = create_user("zhang")
    c = new_client(app)
    with c.session_transaction() as s:
        s["_user_id"] = user.id
        s["_fresh"] = True
    assert c.get("/api/v1/me").status_code == 401


def test_end_sessions_ends_every_browser_and_token(app, create_user):
    user = create_user("zhang")
    browsers = [signed_in_client(app, "zhang") for _ in range(2)]
    token = issue_token(user, "phone")
    db.session.commit()
    assert all(b.get("/api/v1/me").status_code == 200 for b in browsers)
    assert end_sessions(user) == 3
    db.session.commit()
    assert all(b.get("/api/v1/me").status_code == 401 for b in browsers)
    r = new_client(app).get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_token"


def test_a_password_change_ends_the_other_sessions_only(app, create_user):
    user = create_user("zhang")
    here, elsewhere = signed_in_client(app, "zhang"), signed_in_client(app, "zhang")
    with here.session_transaction() as s:
        keep = s["sid"]
    with pytest.raises(AccountError):
        change_password(user, "short")
    change_password(user, "a-new-long-password", keep=keep)
    db.session.commit()
    assert here.get("/api/v1/me").status_code == 200
    assert elsewhere.get("/api/v1/me").status_code == 401
    assert user.check_password("a-new-long-password")


def test_a_disabled_account_is_signed_out_everywhere(app, create_user):
    user = create_user("zhang")
    browser = signed_in_client(app, "zhang")
    deactivate_user(user)
    db.session.commit()
    assert browser.get("/").status_code == 302
    with pytest.raises(AssertionError):
        signed_in_client(app, "zhang")


def test_a_bogus_bearer_header_does_not_ride_on_the_session_cookie(app, client, auth, world):
    """Issue #21.5: `Authorization: Bearer x` skipped the CSRF check while the cookie signed the user in."""
    auth.login("sup1")
    push = {"device_id": "b7c7a3c2-9f5e-4d0e-8a47-3f7a3a1f0c11", "mutations": []}
    r = client.post("/api/v1/sync/push", json=push, headers={"Authorization": "Bearer x"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_token"
    r = client.post("/api/v1/sync/push", json=push)  # the cookie alone: CSRF is checked
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "csrf"
    r = client.post("/api/v1/sync/push", json=push, headers={"X-CSRFToken": auth.csrf()})
    assert r.status_code == 200
    token = issue_token(world["users"]["sup1"], "phone")
    db.session.commit()
    r = client.post("/api/v1/sync/push", json=push, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200  # a real token needs no CSRF token, cookie or not


def test_operator_commands_end_sessions(app, runner, create_user):
    create_user("zhang")
    browser = signed_in_client(app, "zhang")
    r = runner.invoke(args=["user", "set-password", "zhang", "--password", "another-long-one"])
    assert r.exit_code == 0, r.output
    assert browser.get("/api/v1/me").status_code == 401
    r = runner.invoke(args=["user", "set-password", "zhang", "--password", "short"])
    assert r.exit_code != 0 and "10 个字符" in r.output  # the default locale: zh_CN
    assert runner.invoke(args=["user", "disable", "nobody"]).exit_code != 0
    assert runner.invoke(args=["user", "sign-out", "zhang"]).exit_code == 0
    assert runner.invoke(args=["user", "disable", "zhang"]).exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(select(User.active).where(User.username == "zhang")) is False
