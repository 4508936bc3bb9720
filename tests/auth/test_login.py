import time
from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import PASSWORD, csrf_from
from webapp.auth.models import LoginAttempt
from webapp.auth.operations import sign_in_delay
from webapp.core.models import utcnow
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


ATTACKER = "198.51.100.7"


def login_from(client, address, username, password=PASSWORD):
    """A sign-in from another client address (the test client is 127.0.0.1 otherwise)."""
    token = csrf_from(client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def test_others_failures_never_lock_the_owner_out(client, auth, create_user):
    """Issue #21.7: five wrong passwords from anywhere used to lock the username for 15 minutes."""
    create_user("zhang")
    for _ in range(5):
        assert login_from(client, ATTACKER, "zhang", "wrong-password").status_code == 401
    r = auth.login("zhang")  # the owner, from their own address
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_the_guessing_address_slows_only_itself(app, client, create_user):
    create_user("zhang")
    for _ in range(5):
        assert login_from(client, ATTACKER, "zhang", "wrong-password").status_code == 401
    r = login_from(client, ATTACKER, "zhang")  # refused before the password is even checked
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert "登录失败次数过多" in r.get_data(as_text=True)
    assert login_from(client, ATTACKER, "li", "wrong-password").status_code == 401  # another username: own count
    r = app.test_client().post("/api/v1/auth/token", json={"username": "zhang", "password": PASSWORD},
                               environ_base={"REMOTE_ADDR": ATTACKER})  # the API shares the count
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "throttled"


def test_an_address_failing_over_many_usernames_is_refused(app, client, create_user):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per 15 minutes"
    create_user("zhang")
    for name in ("a1", "a2", "a3"):
        assert login_from(client, ATTACKER, name, "wrong-password").status_code == 401
    assert login_from(client, ATTACKER, "zhang").status_code == 429
    assert login_from(client, "203.0.113.5", "zhang").status_code == 302


def test_successful_sign_ins_are_not_counted(app, client, create_user):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "2 per 15 minutes"
    create_user("zhang")
    for _ in range(4):
        assert login_from(client, ATTACKER, "zhang").status_code == 302
        client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))},
                    environ_base={"REMOTE_ADDR": ATTACKER})


def test_a_username_under_attack_answers_slower_but_still_lets_the_owner_in(app, client, create_user):
    app.config.update(LOGIN_SLOWDOWN_AFTER=2, LOGIN_SLOWDOWN_MAX_SECONDS=0.5)
    create_user("zhang")
    for i in range(3):  # spread over addresses, as a botnet would
        assert login_from(client, f"198.51.100.{i}", "zhang", "wrong-password").status_code == 401
    assert sign_in_delay("ZHANG") == 0.5 and sign_in_delay("li") == 0
    started = time.perf_counter()
    assert login_from(client, "203.0.113.5", "zhang").status_code == 302
    assert time.perf_counter() - started >= 0.5


def test_old_attempts_are_pruned(app, auth, create_user):
    create_user("zhang")
    old = utcnow() - timedelta(days=app.config["LOGIN_ATTEMPTS_KEEP_DAYS"] + 1)
    db.session.add_all([LoginAttempt(username="zhang", address="x", success=False, at=old) for _ in range(3)])
    db.session.commit()
    auth.login("zhang")
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 1


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
