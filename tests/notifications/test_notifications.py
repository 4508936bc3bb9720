"""The bell, the notifications page and the optional email."""

import asyncio
import socket
import time
from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
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
    assert "Report to approve: 督导报告一" in page or "待审批的督导报告：督导报告一" in page


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


class Inbox:
    """What a real SMTP server (aiosmtpd, on 127.0.0.1) received; `delay` makes it a slow one."""

    def __init__(self):
        self.messages: list = []
        self.delay = 0.0

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        self.messages.append(BytesParser(policy=policy.default).parsebytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(app):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    yield inbox
    ops.wait_for_mail(app)
    controller.stop()


def _with_email(world, name="manager", email="wang@example.com"):
    user = world["users"][name]
    user.email = email
    db.session.commit()
    return user


def test_email_is_sent_after_commit(app, world, smtp):
    _notify(_with_email(world))
    ops.wait_for_mail(app)
    assert len(smtp.messages) == 1
    assert smtp.messages[0]["To"] == "wang@example.com" and "督导报告一" in smtp.messages[0]["Subject"]


def test_no_email_without_smtp(app, world, smtp):
    app.config["SMTP_HOST"] = None
    _notify(_with_email(world))
    ops.wait_for_mail(app)
    assert smtp.messages == []


def test_no_email_when_rolled_back(app, world, smtp):
    ops.notify([_with_email(world)], "overdue", "x")
    db.session.rollback()
    db.session.commit()
    ops.wait_for_mail(app)
    assert smtp.messages == []


def test_a_rolled_back_savepoint_drops_only_its_own_mail(app, world, smtp):
    """Issue #21.13: a savepoint's rollback dropped the whole transaction's mail, and a released
    savepoint sent its mail before the outer transaction had committed."""
    kept, dropped = _with_email(world, "manager", "kept@example.com"), _with_email(world, "sup1", "gone@example.com")
    ops.notify([kept], "overdue", "kept")
    savepoint = db.session.begin_nested()
    ops.notify([dropped], "overdue", "dropped")
    savepoint.rollback()
    db.session.commit()
    ops.wait_for_mail(app)
    assert [m["To"] for m in smtp.messages] == ["kept@example.com"]


def test_a_released_savepoint_waits_for_the_outer_commit(app, world, smtp):
    user = _with_email(world)
    with db.session.begin_nested():
        ops.notify([user], "overdue", "inside")
    # Released, but the outer transaction may still roll back: nothing is sent from the request
    # (the email is an outbox row, invisible to any worker until the commit).
    assert smtp.messages == []
    db.session.rollback()
    ops.wait_for_mail(app)
    assert smtp.messages == []
    with db.session.begin_nested():
        ops.notify([user], "overdue", "inside")
    db.session.commit()
    ops.wait_for_mail(app)
    assert len(smtp.messages) == 1


def test_a_slow_mail_server_does_not_hold_up_the_commit(app, world, smtp):
    """Issue #21.13: the mail was sent inside the request, after commit, with a 10 s timeout."""
    smtp.delay = 1.5
    user = _with_email(world)
    started = time.perf_counter()
    _notify(user)
    assert time.perf_counter() - started < 1.0
    assert smtp.messages == []
    ops.wait_for_mail(app)
    assert len(smtp.messages) == 1
