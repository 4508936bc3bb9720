"""/admin/channels: administrators only, CSRF, hostile values and bad URLs → 400, send again, the
secret shown once, the delivery log."""

import re

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.outbox import operations as ops
from webapp.outbox.models import OutboxMessage, WebhookEndpoint
from webapp.outbox.webhooks import endpoint_secret

OTHERS = ("manager", "sup1", "head1", "staff1")


def _token(client, path="/admin/channels/"):
    return csrf_from(client.get(path).get_data(as_text=True))


def _form(token, **kw):
    data = {"csrf_token": token, "name": "ERP", "url": "https://erp.example.com/hooks/supervision",
            "events": ["report.approved", "warning.raised"], "active": "true"}
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("role", OTHERS)
def test_every_other_role_gets_403(client, auth, world, role):
    auth.login(role)
    assert client.get("/admin/channels/").status_code == 403
    token = auth.csrf()
    assert client.post("/admin/channels/endpoints", data=_form(token)).status_code == 403
    assert client.post("/admin/channels/messages/1/retry", data={"csrf_token": token}).status_code == 403


def test_signed_out_is_sent_to_sign_in(client, world):
    r = client.get("/admin/channels/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_the_admin_landing_page_links_here(client, auth, world):
    auth.login("admin")
    assert 'href="/admin/channels/"' in client.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_page_renders_counts_and_messages_in_both_languages(client, auth, world, lang):
    ep = WebhookEndpoint(name="接收端", url="https://x.example.com/", events=["report.approved"], salt="s")
    db.session.add(ep)
    db.session.flush()
    ops.enqueue_message("webhook", "report.approved", ep.id, {"a": 1})
    db.session.commit()
    auth.login("admin")
    html = client.get("/admin/channels/", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert "接收端" in html and "report.approved:" in html
    assert ("Outbox" in html) == (lang == "en")


def test_register_shows_the_secret_once_and_audits(client, auth, world, app):
    auth.login("admin")
    r = client.post("/admin/channels/endpoints", data=_form(_token(client)))
    assert r.status_code == 201
    ep = db.session.scalar(select(WebhookEndpoint))
    secret = endpoint_secret(ep.salt, app.config["SECRET_KEY"])
    assert secret in r.get_data(as_text=True)
    assert ep.events == ["report.approved", "warning.raised"] and ep.active
    assert secret not in client.get("/admin/channels/").get_data(as_text=True)  # never again
    assert secret not in client.get(f"/admin/channels/endpoints/{ep.id}").get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.entity == "webhook_endpoint")) == "webhook.create"
    # A new secret: shown once, the old one no longer matches.
    r = client.post(f"/admin/channels/endpoints/{ep.id}/rotate", data={"csrf_token": _token(client)})
    db.session.refresh(ep)
    new = endpoint_secret(ep.salt, app.config["SECRET_KEY"])
    assert new != secret and new in r.get_data(as_text=True)


def test_missing_csrf_is_400(client, auth, world):
    auth.login("admin")
    form = _form("")
    form.pop("csrf_token")
    assert client.post("/admin/channels/endpoints", data=form).status_code == 400
    assert db.session.scalar(select(WebhookEndpoint)) is None


@pytest.mark.parametrize(("field", "value"), [
    ("url", "ftp://example.com/x"),
    ("url", "javascript:alert(1)"),
    ("url", "http://"),
    ("url", "https://user:pw@example.com/"),
    ("url", "https://example.com/a b"),
    ("url", "https://example.com:99999/"),
    ("url", "x" * 10_000),
    ("name", "=HYPERLINK(\"http://evil\")"),
    ("name", "a" * 10_000),
    ("name", ""),
    ("events", ["no.such.event"]),
    ("events", []),
    ("active", "maybe"),
])
def test_hostile_values_and_bad_urls_are_400(client, auth, world, field, value):
    auth.login("admin")
    r = client.post("/admin/channels/endpoints", data=_form(_token(client), **{field: value}),
                    headers={"Accept-Language": "en"})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert 'class="error"' in html
    assert db.session.scalar(select(WebhookEndpoint)) is None


def test_control_characters_are_dropped_not_a_500(client, auth, world):
    auth.login("admin")
    r = client.post("/admin/channels/endpoints", data=_form(_token(client), name="ERP\x00\x07系统"))
    assert r.status_code == 201
    assert db.session.scalar(select(WebhookEndpoint.name)) == "ERP系统"


def test_bad_filters_are_400(client, auth, world):
    auth.login("admin")
    assert client.get("/admin/channels/?status=bogus").status_code == 400
    assert client.get("/admin/channels/?page=abc").status_code == 400
    assert client.get("/admin/channels/?status=failed&channel=email").status_code == 200


def _failed_webhook():
    """An endpoint and a message to it that failed for good (not committed)."""
    ep = WebhookEndpoint(name="e", url="https://x.example.com/", events=["report.approved"], salt="s")
    db.session.add(ep)
    db.session.flush()
    msg = ops.enqueue_message("webhook", "report.approved", ep.id, {})
    msg.status, msg.attempts, msg.last_error = "failed", 8, "HTTP 500"
    return ep, msg


def test_send_again_resets_a_failed_message_and_audits(client, auth, world):
    ep, msg = _failed_webhook()
    sent = ops.enqueue_message("webhook", "report.approved", ep.id, {})
    sent.status = "sent"
    db.session.commit()
    auth.login("admin")
    page = client.get("/admin/channels/?status=failed").get_data(as_text=True)
    assert f"/admin/channels/messages/{msg.id}/retry" in page and f"/messages/{sent.id}/retry" not in page
    token = _token(client)
    assert client.post(f"/admin/channels/messages/{msg.id}/retry", data={}).status_code == 400  # no CSRF
    r = client.post(f"/admin/channels/messages/{msg.id}/retry", data={"csrf_token": token})
    assert r.status_code == 303
    db.session.refresh(msg)
    assert msg.status == "pending" and msg.attempts == 0
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.entity == "outbox_message")) == "outbox.retry"
    assert client.post(f"/admin/channels/messages/{sent.id}/retry", data={"csrf_token": token}).status_code == 409
    assert client.post("/admin/channels/messages/999999/retry", data={"csrf_token": token}).status_code == 404


def test_send_again_on_an_endpoints_log_returns_to_that_log(client, auth, world):
    ep, msg = _failed_webhook()
    mail = ops.enqueue_message("email", "notification.overdue", world["users"]["sup1"].id, {"to": "a@b.c"})
    mail.status = "failed"
    db.session.commit()
    auth.login("admin")
    page = client.get(f"/admin/channels/endpoints/{ep.id}").get_data(as_text=True)
    assert f"/admin/channels/messages/{msg.id}/retry" in page and 'name="back_to_endpoint"' in page
    token = csrf_from(page)
    r = client.post(f"/admin/channels/messages/{msg.id}/retry", data={"csrf_token": token, "back_to_endpoint": "1"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/admin/channels/endpoints/{ep.id}")
    db.session.refresh(msg)
    assert msg.status == "pending" and msg.attempts == 0
    # A message that is not a webhook's has no endpoint log: back to the failed messages.
    r = client.post(f"/admin/channels/messages/{mail.id}/retry", data={"csrf_token": token, "back_to_endpoint": "1"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/admin/channels/?status=failed")


def test_endpoint_page_shows_its_delivery_log_and_saves(client, auth, world, app, receiver):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    ep = WebhookEndpoint(name="e", url=receiver.url, events=["report.approved"], salt="s")
    other = WebhookEndpoint(name="other", url="https://y.example.com/", events=["report.approved"], salt="t")
    db.session.add_all([ep, other])
    db.session.flush()
    mine = ops.enqueue_message("webhook", "report.approved", ep.id, {"n": 1}).idempotency_key
    theirs = ops.enqueue_message("webhook", "report.approved", other.id, {"n": 2}).idempotency_key
    db.session.commit()
    db.session.execute(OutboxMessage.__table__.update().where(OutboxMessage.recipient == other.id)
                       .values(status="failed"))
    db.session.commit()
    ops.deliver_due()
    auth.login("admin")
    html = client.get(f"/admin/channels/endpoints/{ep.id}").get_data(as_text=True)
    assert mine in html and theirs not in html and "200" in html
    token = _token(client, f"/admin/channels/endpoints/{ep.id}")
    r = client.post(f"/admin/channels/endpoints/{ep.id}", data=_form(token, name="新名字", active=None))
    assert r.status_code == 303
    db.session.refresh(ep)
    assert ep.name == "新名字" and ep.active is False
    r = client.post(f"/admin/channels/endpoints/{ep.id}", data=_form(token, url="file:///etc/passwd"))
    assert r.status_code == 400
    assert client.get("/admin/channels/endpoints/nope").status_code == 404
    assert re.search(r"<h1>新名字</h1>", client.get(f"/admin/channels/endpoints/{ep.id}").get_data(as_text=True))
