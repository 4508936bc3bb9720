"""Email through the outbox: a real SMTP server (aiosmtpd), the recipient's language, the catcher."""

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.notifications.operations import notify
from webapp.outbox import operations as ops
from webapp.outbox.models import OutboxMessage


def _users(world):
    en, zh = world["users"]["manager"], world["users"]["sup1"]
    en.email, en.locale = "en@example.com", "en"
    zh.email, zh.locale = "zh@example.com", None  # no setting: the default language (Chinese)
    db.session.commit()
    return en, zh


def test_notify_writes_the_email_to_the_outbox_in_each_recipients_language(app, world, smtp_server):
    en, zh = _users(world)
    notify([en, zh], "report_to_approve", "督导报告一", "/reports/r1")
    assert smtp_server.messages == []  # nothing leaves from the request
    db.session.commit()
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.channel, r.event, r.recipient) for r in rows] == [
        ("email", "notification.report_to_approve", en.id), ("email", "notification.report_to_approve", zh.id)]
    assert ops.deliver_due().sent == 2
    by_to = {m["To"]: m for m in smtp_server.messages}
    assert by_to["en@example.com"]["Subject"] == "Report to approve: 督导报告一"
    assert by_to["zh@example.com"]["Subject"] != "Report to approve: 督导报告一"
    assert "督导报告一" in by_to["zh@example.com"]["Subject"]
    for row in rows:
        mail = by_to[row.payload["to"]]
        assert mail["X-Supervision-Delivery"].strip() == row.idempotency_key
        digest = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:32]
        assert mail["Message-ID"].startswith(f"<{digest}@")


def test_smtp_down_then_up_delivers_once(app, world, smtp_server, pinned_clock):
    en, _zh = _users(world)
    port = app.config["SMTP_PORT"]
    app.config["SMTP_PORT"] = port + 1 if port < 65535 else port - 1  # nobody listens there
    notify([en], "overdue", "消防通道堆放货物")
    db.session.commit()
    assert ops.deliver_due().retrying == 1
    app.config["SMTP_PORT"] = port
    pinned_clock.shift(timedelta(seconds=11))
    assert ops.deliver_due().sent == 1
    assert list(smtp_server.keys.values()) == [1]


def test_no_mail_transport_means_no_email_queued(app, world):
    en, _zh = _users(world)
    app.config.update(SMTP_HOST=None, MAIL_CATCHER=False)
    notify([en], "overdue", "x")
    db.session.commit()
    assert db.session.scalar(select(OutboxMessage)) is None


def test_the_demo_mail_catcher_writes_eml_files(app, world, tmp_path):
    en, _zh = _users(world)
    app.config.update(SMTP_HOST=None, MAIL_CATCHER=True, MAIL_CATCHER_DIR=str(tmp_path / "mail"))
    notify([en], "acceptance_passed", "灭火器过期")
    db.session.commit()
    assert ops.deliver_due().sent == 1
    (eml,) = (tmp_path / "mail").glob("*.eml")
    text = eml.read_text()
    assert "To: en@example.com" in text and "X-Supervision-Delivery: email" not in text
    assert "notification.acceptance_passed:" in text.split("X-Supervision-Delivery:", 1)[1][:60]


class _Answering:
    """An SMTP server's DATA step that answers `code` (then, once told, 250) or takes too long."""

    def __init__(self, code=250, delay=0.0):
        self.code, self.delay, self.accepted = code, delay, []

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        if self.delay:
            await asyncio.sleep(self.delay)
        if self.code != 250:
            return f"{self.code} {'try again later' if self.code < 500 else 'transaction failed'}"
        self.accepted.append(envelope.content)
        return "250 OK"


@pytest.fixture
def answering_smtp(app):
    from aiosmtpd.controller import Controller

    from tests.receivers import free_port

    handler, port = _Answering(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TIMEOUT=0.5, OUTBOX_BACKOFF_SECONDS=10)
    yield handler
    controller.stop()


def test_smtp_451_554_and_a_timeout_are_retried_then_delivered_once(app, world, answering_smtp, pinned_clock):
    from webapp.outbox.models import DeliveryAttempt

    en, _zh = _users(world)
    notify([en], "overdue", "消防通道堆放货物")
    db.session.commit()
    outcomes = []
    for code, delay in ((451, 0.0), (554, 0.0), (250, 1.0)):  # greylisted, refused for now, too slow
        answering_smtp.code, answering_smtp.delay = code, delay
        outcomes.append(ops.deliver_due().retrying)
        pinned_clock.shift(timedelta(minutes=10))  # past the backoff
    answering_smtp.code, answering_smtp.delay = 250, 0.0
    assert outcomes == [1, 1, 1] and ops.deliver_due().sent == 1
    attempts = db.session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()
    assert [(a.outcome, a.status_code) for a in attempts] == [("error", 451), ("error", 554), ("error", None),
                                                              ("sent", 250)]
    assert "timed out" in attempts[2].response.lower()
    msg = db.session.scalar(select(OutboxMessage))
    assert msg.status == "sent" and msg.attempts == 4
    # The slow try's email may have arrived after the sender gave up: the same key both times.
    from email import message_from_bytes, policy

    keys = {str(message_from_bytes(m, policy=policy.default)["X-Supervision-Delivery"]).strip()
            for m in answering_smtp.accepted}
    assert keys == {msg.idempotency_key}


def test_a_permanent_smtp_refusal_fails_at_once(app, world, answering_smtp):
    en, _zh = _users(world)
    notify([en], "overdue", "x")
    db.session.commit()
    answering_smtp.code = 550
    assert ops.deliver_due().failed == 1
    msg = db.session.scalar(select(OutboxMessage))
    assert msg.status == "failed" and msg.attempts == 1 and msg.last_error == "SMTP 550"
