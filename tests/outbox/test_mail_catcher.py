"""The demo shows a message delivered: `make run`'s seed (the mail catcher on) leaves emails in the
outbox through the normal operations (the warnings check notifies the demo manager), the worker's
delivery writes them to the catcher's folder, and /admin/channels/mail lists them — administrators
only, 404 when the catcher is not the mail transport."""

from pathlib import Path

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.outbox import operations as ops
from webapp.outbox.models import OutboxMessage

OTHERS = ("manager", "sup1", "head1", "staff1")


@pytest.fixture
def catcher(app, tmp_path):
    app.config.update(MAIL_CATCHER=True, SMTP_HOST=None, MAIL_CATCHER_DIR=str(tmp_path / "mail"))
    return tmp_path / "mail"


def test_the_makefile_seeds_and_runs_with_the_catcher_on():
    make = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "MAIL_CATCHER=$${MAIL_CATCHER:-1} $(FLASK) seed-demo" in make
    assert "export MAIL_CATCHER=$${MAIL_CATCHER:-1}" in make and "jobs worker" in make


def test_the_demo_seed_leaves_emails_the_worker_delivers_to_the_catcher(app, catcher, client, auth):
    from webapp.demo.seed import seed_demo

    seed_demo()
    db.session.commit()
    emails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email")).all()
    assert emails and {m.status for m in emails} == {"pending"}
    assert {m.payload["to"] for m in emails} >= {"manager@demo.example"}
    stats = ops.deliver_due()  # what the worker's delivery task runs
    assert stats.sent == len(emails) and stats.failed == 0
    files = sorted(catcher.glob("*.eml"))
    assert len(files) == len(emails)

    assert auth.login("admin", "admin-demo-2026").status_code == 302
    html = client.get("/admin/channels/mail").get_data(as_text=True)
    assert "manager@demo.example" in html and files[0].name in html
    assert html.count("<tr>") == len(files) + 1  # the header row and one row per email


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_mail_page_lists_caught_emails_for_administrators_only(app, world, catcher, client, auth, lang):
    world["users"]["sup1"].email = "sup1@example.cn"
    db.session.commit()
    from webapp.notifications.operations import notify

    notify([world["users"]["sup1"]], "report_approved", "<b>一店</b> 11 月报告", "/reports/x")
    db.session.commit()
    assert ops.deliver_due().sent == 1
    (catcher / "broken.eml").write_bytes(b"\xff\xfe not an email \x00")  # left out or shown, never a 500
    auth.login("admin")
    r = client.get("/admin/channels/mail", headers={"Accept-Language": lang})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "sup1@example.cn" in html
    assert "&lt;b&gt;一店&lt;/b&gt;" in html and "<b>一店</b>" not in html  # escaped
    assert ("Caught emails" in html) == (lang == "en") and ("已捕获的邮件" in html) == (lang == "zh-CN")
    index = client.get("/admin/channels/", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert "/admin/channels/mail" in index
    for username in OTHERS:
        auth.logout()
        auth.login(username)
        assert client.get("/admin/channels/mail").status_code == 403
    auth.logout()
    assert client.get("/admin/channels/mail").status_code in (302, 303)  # to sign in


def test_no_mail_page_when_the_catcher_is_off(app, world, client, auth):
    auth.login("admin")
    app.config.update(MAIL_CATCHER=False, SMTP_HOST=None)
    assert client.get("/admin/channels/mail").status_code == 404
    assert "/admin/channels/mail" not in client.get("/admin/channels/").get_data(as_text=True)
    app.config.update(MAIL_CATCHER=True, SMTP_HOST="smtp.example.cn", SMTP_PORT=587, SMTP_USER="u", SMTP_PASSWORD="pw-123")
    assert client.get("/admin/channels/mail").status_code == 404  # a real mail server: nothing is caught
    html = client.get("/admin/channels/").get_data(as_text=True)
    assert "smtp.example.cn:587" in html and "pw-123" not in html  # the settings, read-only, never the password
    auth.logout()
    auth.login("manager")
    assert client.get("/admin/channels/mail").status_code == 403
