"""The administrator's sign-in page (/admin/sign-in): providers, callback addresses, the unknown-user policy."""

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from
from webapp.audit.models import AuditEntry
from webapp.core.settings import get_setting
from webapp.extensions import db


@pytest.fixture
def admin(create_user, auth):
    user = create_user("boss", role="admin")
    auth.login("boss")
    return user


def test_page_lists_providers_and_callbacks_never_secrets(client, admin):
    resp = client.get("/admin/sign-in")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    for key in ("wecom", "dingtalk", "feishu", "oidc"):
        assert f"http://localhost/sso/{key}/callback" in page
    assert "ww-corp" in page and "1000002" in page and "cli_feishu" in page and "ding-client" in page
    for secret in ("wecom-secret", "ding-secret", "feishu-secret"):
        assert secret not in page
    assert "OIDC_CLIENT_SECRET" in page  # what to set to turn it on
    assert 'value="refuse" checked' in page
    # the administration landing page now links here
    assert 'href="/admin/sign-in"' in client.get("/admin/").get_data(as_text=True)


def test_public_url_gives_the_callback_addresses(client, admin, app):
    app.config["PUBLIC_URL"] = "https://supervision.example.com/"
    page = client.get("/admin/sign-in").get_data(as_text=True)
    assert "https://supervision.example.com/sso/wecom/callback" in page


def test_change_policy_with_audit(client, admin):
    token = csrf_from(client.get("/admin/sign-in").get_data(as_text=True))
    resp = client.post("/admin/sign-in", data={"unknown_users": "create_pending", "csrf_token": token})
    assert resp.status_code == 302
    db.session.expire_all()
    assert get_setting("sso_unknown_users") == "create_pending"
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "sso.settings")).all()
    assert (entry.user_id, entry.data) == (admin.id, {"from": "refuse", "to": "create_pending"})
    page = client.get("/admin/sign-in").get_data(as_text=True)
    assert 'value="create_pending" checked' in page


def test_missing_csrf_is_400(client, admin):
    assert client.post("/admin/sign-in", data={"unknown_users": "create_pending"}).status_code == 400
    assert get_setting("sso_unknown_users", "refuse") == "refuse"


@pytest.mark.parametrize("data", [
    {"unknown_users": "create_active"},
    {"unknown_users": "=HYPERLINK(\"http://x\")"},
    {"unknown_users": "\x00\x01"},  # dropped by the app-wide text rule: then missing
    {"unknown_users": "refuse\u202e"},
    {"unknown_users": "x" * 10_000},
    {},
    {"unknown_users": "refuse", "role": "admin"},
])
def test_hostile_values_are_400(client, admin, data):
    token = csrf_from(client.get("/admin/sign-in").get_data(as_text=True))
    resp = client.post("/admin/sign-in", data={**data, "csrf_token": token})
    assert resp.status_code == 400
    assert 'role="alert"' in resp.get_data(as_text=True)
    db.session.expire_all()
    assert get_setting("sso_unknown_users", "refuse") == "refuse"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "sso.settings")) is None


@pytest.mark.parametrize("role", ["manager", "supervisor", "dept_head", "staff"])
def test_other_roles_get_403(client, auth, create_user, create_department, role):
    dept = create_department()
    create_user("someone", role=role, department=dept if role in ("dept_head", "staff") else None)
    auth.login("someone")
    assert client.get("/admin/sign-in").status_code == 403
    resp = client.post("/admin/sign-in", data={"unknown_users": "create_pending", "csrf_token": auth.csrf()})
    assert resp.status_code == 403
    assert get_setting("sso_unknown_users", "refuse") == "refuse"


def test_anonymous_is_sent_to_sign_in(client):
    resp = client.get("/admin/sign-in")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_page_in_chinese(client, admin):
    client.post("/locale", data={"locale": "zh_CN", "csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    page = client.get("/admin/sign-in").get_data(as_text=True)
    assert "企业微信" in page and "需登记的回调地址" in page and "拒绝登录" in page
