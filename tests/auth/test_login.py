from sqlalchemy import func, select

from tests.conftest import csrf_from
from webapp.auth.models import LoginAttempt
from webapp.extensions import db


def test_login_and_logout(client, auth, create_user):
    create_user("zhang", "supervisor", display_name="张伟")
    r = auth.login("zhang")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "张伟" in home.get_data(as_text=True)
    r = auth.logout()
    assert r.status_code == 302
    assert client.get("/").status_code == 302


def test_username_is_case_insensitive(auth, create_user):
    create_user("zhang")
    assert auth.login("ZHANG").status_code == 302


def test_wrong_password_says_so_in_users_language(client, auth, create_user):
    create_user("zhang")
    r = auth.login("zhang", "nope-nope")
    assert r.status_code == 401
    assert "用户名或密码错误" in r.get_data(as_text=True)
    client.post("/locale", data={"locale": "en", "csrf_token": csrf_from(client.get("/login").get_data(as_text=True))})
    r = auth.login("zhang", "nope-nope")
    assert b"Wrong username or password." in r.data


def test_throttling_locks_out_after_repeated_failures(app, auth, create_user):
    create_user("zhang")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert auth.login("zhang", "wrong-password").status_code == 401
    r = auth.login("zhang")  # even the right password is refused while locked out
    assert r.status_code == 429
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == app.config["LOGIN_MAX_FAILURES"]


def test_login_form_requires_csrf(client, create_user):
    create_user("zhang")
    r = client.post("/login", data={"username": "zhang", "password": "correct-horse-battery"})
    assert r.status_code == 400
    assert client.get("/").status_code == 302


def test_logout_is_post_with_csrf(client, auth, create_user):
    create_user("zhang")
    auth.login("zhang")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token
    assert client.get("/").status_code == 200


def test_next_param_cannot_redirect_off_site(client, create_user):
    create_user("zhang")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login?next=https://evil.example/x", data={
        "username": "zhang", "password": "correct-horse-battery", "csrf_token": token})
    assert r.headers["Location"] == "/"


def test_passwords_are_hashed(create_user):
    user = create_user("zhang")
    user.set_password("correct-horse-battery")  # the app's own hashing, not the fixture's shortcut
    assert "correct-horse-battery" not in user.password_hash
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("correct-horse-battery") and not user.check_password("correct-horse")


def test_inactive_user_cannot_sign_in(auth, create_user):
    create_user("zhang", active=False)
    assert auth.login("zhang").status_code == 401


def test_htmx_requests_need_csrf_header(client, auth, create_user):
    create_user("zhang")
    auth.login("zhang")
    r = client.post("/locale", data={"locale": "en"}, headers={"HX-Request": "true"})
    assert r.status_code == 400
    r = client.post("/locale", data={"locale": "en"}, headers={"HX-Request": "true", "X-CSRFToken": auth.csrf()})
    assert r.status_code == 302
