"""First run without a terminal: the first administrator is created in the browser, once."""

from sqlalchemy import func, select

from tests.conftest import csrf_from
from webapp.auth.models import User
from webapp.extensions import db

GOOD = {"username": "Boss", "display_name": "王总", "email": "boss@example.com",
        "password": "a-long-enough-pass-2026", "confirm": "a-long-enough-pass-2026"}


def _post(client, **over):
    token = csrf_from(client.get("/setup").get_data(as_text=True))
    return client.post("/setup", data={**GOOD, **over, "csrf_token": token})


def test_a_fresh_installation_leads_to_setup_and_creates_one_admin(client):
    assert 'href="/setup"' in client.get("/login").get_data(as_text=True)
    resp = _post(client)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/")
    admin = db.session.scalar(select(User))
    assert (admin.username, admin.role, admin.display_name, admin.active) == ("boss", "admin", "王总", True)
    assert client.get("/admin/").status_code == 200  # signed in as that administrator
    # Closed from now on: the page is gone and the sign-in page is the sign-in page again.
    assert client.get("/setup").status_code == 404
    assert client.post("/setup", data=GOOD).status_code in (400, 404)
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_setup_is_closed_once_any_account_exists(client, create_user):
    create_user("someone", role="staff")
    assert client.get("/setup").status_code == 404
    assert 'href="/setup"' not in client.get("/login").get_data(as_text=True)


def test_setup_refuses_bad_input_and_saves_nothing(client):
    for over in ({"password": "short", "confirm": "short"}, {"confirm": "something-else-entirely"},
                 {"username": "=cmd|' /C calc'!A0"}, {"display_name": "x" * 10_000},
                 {"username": ""}):
        resp = _post(client, **over)
        assert resp.status_code == 400, over
        assert 'role="alert"' in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    resp = client.post("/setup", data=GOOD)  # no CSRF token
    assert resp.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_setup_token_when_the_server_has_one(app, client):
    app.config["SETUP_TOKEN"] = "s3cret-setup"
    assert _post(client, setup_token="wrong").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert _post(client, setup_token="s3cret-setup").status_code == 302


def test_control_characters_are_dropped_at_the_door(client):
    assert _post(client, display_name="王\x00总\x07").status_code == 302
    assert db.session.scalar(select(User.display_name)) == "王总"
