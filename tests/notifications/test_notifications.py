"""The bell, the notifications page and the optional email."""

import pytest
from sqlalchemy import select

from tests.review_helpers import post
from webapp.extensions import db
from webapp.notifications import operations as ops
from webapp.notifications.models import Notification


def _notify(user, kind="report_to_approve", subject="督导报告一", link="/reports/x"):
    ops.notify([user], kind, subject, link)
    db.session.commit()


def test_bell_counts_unread_and_page_renders_in_reader_language(client, auth, world):
    _notify(world["users"]["manager"])
    _notify(world["users"]["manager"], "overdue", "消防通道堆放货物", "/rectification/y")
    auth.login("manager")
    home = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'class="bell-count">2<' in home
    page = client.get("/notifications/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Report to approve: 督导报告一" in page or "待审批的督导报告:督导报告一" in page


def test_open_marks_read_and_follows_only_local_links(client, auth, world):
    _notify(world["users"]["manager"], link="https://evil.example/")
    nid = db.session.scalar(select(Notification.id))
    auth.login("manager")
    r = post(client, f"/notifications/{nid}/open")
    assert r.status_code == 302 and r.headers["Location"].endswith("/notifications/")
    assert db.session.get(Notification, nid).read_at is not None


def test_cannot_open_someone_elses(client, auth, world):
    _notify(world["users"]["manager"])
    nid = db.session.scalar(select(Notification.id))
    auth.login("sup1")
    post(client, f"/notifications/{nid}/open")
    assert db.session.get(Notification, nid).read_at is None


def test_read_all(client, auth, world):
    _notify(world["users"]["manager"])
    _notify(world["users"]["manager"])
    auth.login("manager")
    r = post(client, "/notifications/read-all", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "bell-count" not in r.get_data(as_text=True)
    assert ops.unread_count(world["users"]["manager"]) == 0


class FakeSMTP:
    sent: list = []

    def __init__(self, host, port, timeout):
        self.host = host

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_message(self, msg):
        FakeSMTP.sent.append(msg)


@pytest.mark.parametrize("smtp_host,expected", [(None, 0), ("mail.local", 1)])
def test_email_only_when_smtp_configured(app, world, monkeypatch, smtp_host, expected):
    FakeSMTP.sent = []
    monkeypatch.setattr(ops.smtplib, "SMTP", FakeSMTP)
    app.config["SMTP_HOST"] = smtp_host
    user = world["users"]["manager"]
    user.email = "wang@example.com"
    db.session.commit()
    _notify(user)
    assert len(FakeSMTP.sent) == expected
    if expected:
        assert FakeSMTP.sent[0]["To"] == "wang@example.com" and "督导报告一" in FakeSMTP.sent[0]["Subject"]


def test_no_email_when_rolled_back(app, world, monkeypatch):
    FakeSMTP.sent = []
    monkeypatch.setattr(ops.smtplib, "SMTP", FakeSMTP)
    app.config["SMTP_HOST"] = "mail.local"
    user = world["users"]["manager"]
    user.email = "wang@example.com"
    db.session.commit()
    ops.notify([user], "overdue", "x")
    db.session.rollback()
    db.session.commit()
    assert FakeSMTP.sent == []
