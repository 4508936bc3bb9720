from sqlalchemy import select

from webapp.auth.models import ApiToken
from webapp.extensions import db


def _token(client, username="zhang", password="correct-horse-battery"):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password, "device_name": "iPhone"})


def test_token_round_trip(client, create_user):
    create_user("zhang", "supervisor")
    r = _token(client)
    assert r.status_code == 201
    body = r.get_json()
    assert body["user"]["username"] == "zhang" and body["user"]["role"] == "supervisor"
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/me", headers=headers).get_json()["user"]["username"] == "zhang"
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_tokens_are_stored_hashed(client, create_user):
    create_user("zhang")
    raw = _token(client).get_json()["token"]
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert stored and raw not in stored and all(len(h) == 64 for h in stored)


def test_bad_credentials_and_bad_payloads_are_json(client, create_user):
    create_user("zhang")
    r = _token(client, password="wrong")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "bad_credentials"
    r = client.post("/api/v1/auth/token", json={"username": "zhang"})
    assert r.status_code == 400 and "password" in r.get_json()["error"]["fields"]
    r = client.post("/api/v1/auth/token", data="not json", content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_json"


def test_api_with_session_cookie_requires_csrf_header(client, auth, create_user):
    create_user("zhang")
    auth.login("zhang")
    r = client.delete("/api/v1/auth/token")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "csrf"


def test_bearer_token_is_not_accepted_on_html_pages(client, create_user):
    create_user("zhang")
    raw = _token(client).get_json()["token"]
    r = client.get("/", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 302  # browser pages use the session only


def test_nul_characters_are_a_failed_sign_in_not_a_server_error(client, create_user):
    """PostgreSQL text cannot hold NUL (schemathesis found a 500 here)."""
    create_user("zhang")
    assert _token(client, username="zh\x00ang").status_code == 401
    r = client.post("/api/v1/auth/token", json={"username": "zhang", "password": "correct-horse-battery",
                                               "device_name": "i\x00Phone"})
    assert r.status_code == 400 and "device_name" in r.get_json()["error"]["fields"]
