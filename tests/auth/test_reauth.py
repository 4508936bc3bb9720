"""Re-authentication for sensitive actions: after REAUTH_AFTER_MINUTES the password is asked again
(report approval is one such action); a wrong one counts as a failed sign-in."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Blueprint, jsonify
from flask_login import login_required
from sqlalchemy import select

from tests.auth.test_sessions import signed_in_client
from tests.conftest import PASSWORD, csrf_from
from tests.review_helpers import _release_test_transaction  # noqa: F401
from webapp.auth.models import LoginAttempt, UserSession
from webapp.auth.operations import start_session
from webapp.auth.reauth import recent_password_required
from webapp.extensions import db
from webapp.reports import operations as ops
from webapp.reports.models import Report


@pytest.fixture
def submitted_report(world, app):
    with app.test_request_context():
        report = ops.create_report(world["visits"][0], world["users"]["sup1"])
        ops.submit_report(report, world["users"]["sup1"])
    db.session.commit()
    return report


def approve(c, report, **kw):
    token = csrf_from(c.get(f"/reports/{report.id}").get_data(as_text=True))
    return c.post(f"/reports/{report.id}/approve", data={"csrf_token": token},
                  headers={"Referer": f"http://localhost/reports/{report.id}", **kw.pop("headers", {})}, **kw)


def reauth(c, target, password):
    page = c.get(target)
    assert page.status_code == 200
    return c.post(target, data={"csrf_token": csrf_from(page.get_data(as_text=True)), "password": password})


def status_of(report) -> str:
    db.session.expire_all()
    return db.session.get(Report, report.id).status


def test_approval_right_after_sign_in_needs_no_password(app, world, submitted_report):
    c = signed_in_client(app, "manager")
    assert approve(c, submitted_report).status_code == 303
    assert status_of(submitted_report) == "approved"


def test_after_the_window_approval_asks_for_the_password_again(app, world, submitted_report, pinned_clock):
    c = signed_in_client(app, "manager")
    pinned_clock.shift(timedelta(minutes=31))
    r = approve(c, submitted_report)
    assert r.status_code == 303
    target = r.headers["Location"]
    assert urlsplit(target).path == "/reauth"
    assert parse_qs(urlsplit(target).query)["next"] == [f"/reports/{submitted_report.id}"]
    assert status_of(submitted_report) == "submitted"  # nothing done
    page = c.get(target).get_data(as_text=True)
    assert "确认是您本人" in page and 'type="password"' in page and "请再次输入密码" in page

    r = reauth(c, target, "not-my-password")
    assert r.status_code == 401 and "密码错误" in r.get_data(as_text=True)
    failed = db.session.scalars(select(LoginAttempt).where(LoginAttempt.success.is_(False))).one()
    assert failed.username == "manager"  # counted like a failed sign-in (and slowed down like one)
    assert approve(c, submitted_report).status_code == 303 and status_of(submitted_report) == "submitted"

    r = reauth(c, target, PASSWORD)
    assert r.status_code == 303 and r.headers["Location"] == f"/reports/{submitted_report.id}"
    assert db.session.scalars(select(UserSession.reauthenticated_at)).one() is not None
    assert approve(c, submitted_report).status_code == 303
    assert status_of(submitted_report) == "approved"


def test_the_window_counts_from_the_last_reauthentication(app, world, pinned_clock):
    c = signed_in_client(app, "manager")
    pinned_clock.shift(timedelta(minutes=40))
    assert reauth(c, "/reauth?next=/", PASSWORD).status_code == 303
    pinned_clock.shift(timedelta(minutes=20))  # 60 minutes after sign-in, 20 after the password
    app.config["REAUTH_AFTER_MINUTES"] = 30
    assert _probe(app, c).status_code == 200
    pinned_clock.shift(timedelta(minutes=11))
    assert _probe(app, c).status_code == 303


def _probe(app, c):
    return c.get("/_probe/sensitive")


@pytest.fixture(autouse=True)
def _sensitive_probe(app):
    """A sensitive GET route and a JSON one, to see the decorator's three answers."""
    if "probe.sensitive" not in app.view_functions:
        bp = Blueprint("probe", __name__, url_prefix="/_probe")

        @bp.get("/sensitive")
        @login_required
        @recent_password_required
        def sensitive():
            return "ok"

        @bp.post("/json")
        @login_required
        @recent_password_required
        def json_action():
            return jsonify(done=True)

        app.register_blueprint(bp)


def test_htmx_gets_hx_redirect_and_json_gets_a_code(app, world, pinned_clock):
    c = signed_in_client(app, "manager")
    pinned_clock.shift(timedelta(minutes=31))
    r = c.get("/_probe/sensitive", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/reports/"})
    assert r.status_code == 401 and r.headers["HX-Redirect"].startswith("/reauth?next=")
    token = csrf_from(c.get("/").get_data(as_text=True))
    r = c.post("/_probe/json", json={}, headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "reauth_required"
    r = c.get("/_probe/sensitive")
    assert r.status_code == 303 and r.headers["Location"] == "/reauth?next=/_probe/sensitive"


def test_the_next_target_stays_on_this_site(app, world):
    c = signed_in_client(app, "manager")
    r = reauth(c, "/reauth?next=https://evil.example/x", PASSWORD)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    r = reauth(c, "/reauth?next=//evil.example/x", PASSWORD)
    assert r.headers["Location"] == "/"


def test_a_missing_csrf_token_or_password_is_a_400(app, world):
    c = signed_in_client(app, "manager")
    assert c.post("/reauth", data={"password": PASSWORD}).status_code == 400
    page = c.get("/reauth").get_data(as_text=True)
    assert c.post("/reauth", data={"csrf_token": csrf_from(page), "password": ""}).status_code == 400
    assert c.post("/reauth", data={"csrf_token": csrf_from(page), "password": "x" * 10_000}).status_code == 400


def test_repeated_wrong_passwords_are_throttled(app, world):
    c = signed_in_client(app, "manager")
    app.config["LOGIN_SLOWDOWN_MAX_SECONDS"] = 0
    codes = [reauth(c, "/reauth?next=/", "wrong-wrong").status_code for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429


def test_a_single_sign_on_user_without_a_password_is_told_to_sign_in_again(app, world, create_user, pinned_clock):
    from tests.auth.test_sessions import new_client

    user = create_user("wecom-user", "manager")
    user.password_hash = "!"
    with app.test_request_context(headers={"User-Agent": "wxwork/4.1"}):
        raw = start_session(user, method="wecom")
    db.session.commit()
    c = new_client(app)
    with c.session_transaction() as s:
        s["_user_id"], s["_fresh"], s["sid"] = user.id, True, raw
    assert c.get("/account/").status_code == 200
    r = c.get("/_probe/sensitive")  # a work-app sign-in proved no password
    assert r.status_code == 303
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "工作应用" in page and 'type="password"' not in page and "/logout" in page
