"""The password policy (webapp/auth/passwords.py) and the /password page."""

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, csrf_from
from webapp.auth.models import User, UserSession
from webapp.auth.operations import AccountError, change_password, create_user, issue_token
from webapp.auth.passwords import common_passwords, password_problems
from webapp.extensions import db


def test_the_list_ships_with_the_app_and_is_read_once(app):
    words = common_passwords()
    assert len(words) > 19_000 and "password" in words and "123456" in words
    assert common_passwords() is words  # loaded once


@pytest.mark.parametrize("password, problem", [
    ("short", "至少需要 10 个字符"),
    ("x" * 201, "最多 200 个字符"),
    ("password123", "过于常见"),
    ("1234567890", "过于常见"),
    ("  Password123 ", "过于常见"),
    ("zhangwei-long-enough", "不能包含用户名"),
    ("ZHANGWEI", "不能包含用户名"),
])
def test_problems(app, password, problem):
    problems = password_problems(password, username="zhangwei")
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("password", [PASSWORD, "my own river stone", "长城脚下的一棵老槐树", "aaaaaaaaaaaaaaaa"])
def test_no_composition_rules(app, password):
    assert password_problems(password, username="zhangwei") == []


def test_min_length_is_configurable(app):
    app.config["PASSWORD_MIN_LENGTH"] = 16
    assert password_problems("fifteen-chars!!", username="x")
    assert not password_problems("sixteen-chars!!!", username="x")


def test_a_very_short_username_is_refused_only_as_the_whole_password(app):
    assert not password_problems("a long phrase here", username="x")
    assert password_problems("xxxxxxxxxxxx", username="xxxxxxxxxxxx")


def test_the_demo_and_fixture_passwords_are_valid(app):
    assert password_problems(PASSWORD, username="sup1") == []


def test_operations_enforce_it(app, create_department):
    with pytest.raises(AccountError, match="过于常见"):
        create_user("li", "manager", "qwertyuiop")
    with pytest.raises(AccountError, match="不能包含用户名"):
        create_user("lihua", "manager", "lihua-2026-spring")
    user = create_user("li", "manager", "a fine long phrase")
    with pytest.raises(AccountError):
        change_password(user, "iloveyou12")


def sign_in(client, username, password=PASSWORD):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def test_change_own_password_keeps_this_session_ends_the_others(app, client, create_user):
    from flask.testing import FlaskClient

    user = create_user("zhang", "supervisor")
    other = app.test_client()
    assert sign_in(other, "zhang").status_code == 302
    token = issue_token(user, "phone")
    db.session.commit()
    assert sign_in(client, "zhang").status_code == 302
    page = client.get("/password")
    assert page.status_code == 200 and "当前密码" in page.get_data(as_text=True)
    csrf = csrf_from(page.get_data(as_text=True))
    r = client.post("/password", data={"csrf_token": csrf, "current": "wrong", "new": "a b c d e f g",
                                       "repeat": "a b c d e f g"})
    assert r.status_code == 400 and "当前密码不正确" in r.get_data(as_text=True)
    r = client.post("/password", data={"csrf_token": csrf, "current": PASSWORD, "new": "a b c d e f g",
                                       "repeat": "a b c d e f h"})
    assert r.status_code == 400 and "不一致" in r.get_data(as_text=True)
    r = client.post("/password", data={"csrf_token": csrf, "current": PASSWORD, "new": "qwertyuiop",
                                       "repeat": "qwertyuiop"})
    assert r.status_code == 400 and "过于常见" in r.get_data(as_text=True)
    r = client.post("/password", data={"csrf_token": csrf, "current": PASSWORD, "new": "x" * 10_000,
                                       "repeat": "x" * 10_000})
    assert r.status_code == 400 and "最多 200 个字符" in r.get_data(as_text=True)
    r = client.post("/password", data={"current": PASSWORD, "new": "a b c d e f g", "repeat": "a b c d e f g"})
    assert r.status_code == 400  # no CSRF token
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(PASSWORD)

    r = client.post("/password", data={"csrf_token": csrf, "current": PASSWORD, "new": "a b c d e f g",
                                       "repeat": "a b c d e f g"})
    assert r.status_code == 302
    assert client.get("/findings/").status_code == 200  # this browser stays signed in
    assert other.get("/findings/").status_code == 302  # the other one is out
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.check_password("a b c d e f g") and user.password_changed_at is not None
    live = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                        UserSession.ended_at.is_(None))).all()
    assert len(live) == 1
    assert isinstance(client, FlaskClient)


def test_forced_change_lets_only_the_password_page_sign_out_and_language_through(app, client, create_user):
    create_user("zhang", "supervisor", must_change_password=True)
    assert sign_in(client, "zhang").status_code == 302
    for url in ("/", "/findings/", "/admin/", "/visits/"):
        r = client.get(url)
        assert r.status_code == 302 and r.headers["Location"] == "/password", url
    page = client.get("/password")
    assert "临时密码" in page.get_data(as_text=True)
    csrf = csrf_from(page.get_data(as_text=True))
    static = client.get("/static/css/app.css")
    assert static.status_code == 200
    static.close()
    r = client.post("/locale", data={"csrf_token": csrf, "locale": "en", "next": "/password"})
    assert r.status_code == 302 and r.headers["Location"] == "/password"
    assert "Current password" in client.get("/password").get_data(as_text=True)
    r = client.get("/api/v1/me")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "password_change_required"
    assert "temporary" in r.get_json()["error"]["message"]
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302


def test_sign_in_records_the_time(app, client, create_user):
    user = create_user("zhang")
    assert user.last_sign_in_at is None
    sign_in(client, "zhang")
    db.session.expire_all()
    assert db.session.get(User, user.id).last_sign_in_at is not None
