from datetime import UTC, datetime, timedelta

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


def test_tokens_expire_with_a_clear_error(app, client, create_user, pinned_clock):
    create_user("zhang")
    body = _token(client).get_json()
    lifetime = timedelta(hours=app.config["API_TOKEN_LIFETIME_HOURS"])
    assert abs(datetime.fromisoformat(body["expires_at"]) - (datetime.now(UTC) + lifetime)) < timedelta(minutes=1)
    headers = {"Authorization": f"Bearer {body['token']}"}
    pinned_clock.shift(lifetime + timedelta(minutes=1))
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "token_expired"
    assert "过期" in r.get_json()["error"]["message"]
    r = client.post("/api/v1/auth/token/refresh", headers=headers)  # too late to refresh
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "token_expired"


def test_refresh_before_expiry_swaps_the_token(app, client, create_user, pinned_clock):
    create_user("zhang")
    old = _token(client).get_json()
    pinned_clock.shift(timedelta(hours=app.config["API_TOKEN_LIFETIME_HOURS"] - 1))
    r = client.post("/api/v1/auth/token/refresh", headers={"Authorization": f"Bearer {old['token']}"})
    assert r.status_code == 200
    new = r.get_json()
    assert new["token"] != old["token"] and new["expires_at"] > old["expires_at"]
    assert new["user"]["username"] == "zhang"
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {old['token']}"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_token"
    pinned_clock.shift(timedelta(hours=2))  # past the old token's lifetime, inside the new one's
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {new['token']}"}).status_code == 200
    assert client.post("/api/v1/auth/token/refresh").status_code == 401  # no token at all


def test_openapi_documents_expiry_and_refresh(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert "post" in doc["paths"]["/auth/token/refresh"]
    assert "expires_at" in doc["components"]["schemas"]["TokenResponse"]["required"]
    assert "token_expired" in doc["components"]["securitySchemes"]["bearer"]["description"]
