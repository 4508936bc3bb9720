"""The queue path end to end: a commit that wrote outbox rows enqueues a delivery task; a real huey
consumer (worker threads, not immediate mode) runs it in an app context; the receiver gets it.
Parametrised: SqliteHuey (file) and RedisHuey (127.0.0.1:6379); the database is the suite's
(SQLite, or PostgreSQL under TEST_DATABASE_URL)."""

import pytest
from sqlalchemy import select

from tests.jobs.conftest import wait_until
from webapp.core.database import sqlite_reading
from webapp.extensions import db
from webapp.jobs import build_huey, get_huey
from webapp.outbox.events import raise_event
from webapp.outbox.models import OutboxMessage


def _status(key):
    """Read as a page does (SQLite: a plain BEGIN, no writer lock held while the test waits)."""
    db.session.rollback()
    try:
        with sqlite_reading():
            return db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.idempotency_key == key))
    finally:
        db.session.rollback()


def test_a_commit_with_messages_is_delivered_by_the_worker(app, endpoint, receiver, queue):
    keys = [m.idempotency_key for m in raise_event("report.approved", {"report": {"id": "r1"}})]
    keys += [m.idempotency_key for m in raise_event("warning.raised", {"warning": {"id": 1}})]
    assert receiver.raw == []
    db.session.commit()
    assert wait_until(lambda: len(receiver.accepted) == 2)
    assert sorted(receiver.accepted) == sorted(keys)
    assert wait_until(lambda: all(_status(k) == "sent" for k in keys))


def test_a_failed_delivery_is_retried_by_the_periodic_task(app, endpoint, receiver, queue, pinned_clock):
    from datetime import timedelta

    receiver.fail_next = 1
    (msg,) = raise_event("acceptance.passed", {"finding": {"id": "f"}})
    key = msg.idempotency_key
    db.session.commit()
    assert wait_until(lambda: _status(key) == "pending" and len(receiver.raw) == 1)
    pinned_clock.shift(timedelta(seconds=61))
    queue.supervision_tasks["deliver_outbox_periodic"]()  # what the scheduler enqueues each minute
    assert wait_until(lambda: _status(key) == "sent")
    assert receiver.accepted[key] == 1


def test_only_commits_that_wrote_messages_enqueue_a_task(app, world, endpoint):
    huey = get_huey(app)  # in-memory under TESTING, no consumer: the tasks stay in the queue
    assert huey.pending_count() == 0
    world["users"]["manager"].display_name = "王经理"
    db.session.commit()
    assert huey.pending_count() == 0  # a commit without outbox rows
    raise_event("report.approved", {"report": {}})
    db.session.flush()
    assert huey.pending_count() == 0  # written, not committed
    db.session.rollback()
    assert huey.pending_count() == 0  # rolled back
    raise_event("report.approved", {"report": {}})
    db.session.commit()
    assert huey.pending_count() == 1
    assert [t.name for t in huey.pending()] == ["deliver_outbox"]


def test_an_unreachable_queue_does_not_break_the_commit(app, endpoint):
    app.config["HUEY_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    app.extensions.pop("huey", None)
    raise_event("report.approved", {"report": {}})
    db.session.commit()  # the nudge fails and is logged; the periodic task delivers later
    assert db.session.scalar(select(OutboxMessage.status)) == "pending"
    app.extensions.pop("huey", None)


def test_huey_url_selects_the_backend(app, tmp_path):
    from huey import MemoryHuey, RedisHuey, SqliteHuey

    for url, kind in [(f"sqlite:///{tmp_path / 'q.db'}", SqliteHuey), ("memory://", MemoryHuey),
                      ("redis://127.0.0.1:6379/0", RedisHuey)]:
        app.config["HUEY_URL"] = url
        assert isinstance(build_huey(app), kind)
    app.config["HUEY_URL"] = "amqp://x"
    with pytest.raises(ValueError):
        build_huey(app)
    app.config["HUEY_URL"], app.testing = None, False
    try:
        huey = build_huey(app)
        assert isinstance(huey, SqliteHuey) and huey.storage.filename.endswith("jobs.db")
        assert huey.storage.filename.startswith(app.instance_path)
    finally:
        app.testing = True


def _attempts(key):
    db.session.rollback()
    try:
        with sqlite_reading():
            return db.session.scalar(select(OutboxMessage.attempts).where(OutboxMessage.idempotency_key == key))
    finally:
        db.session.rollback()


def test_receiver_down_500_and_timeout_through_the_queue(app, endpoint, receiver, queue, pinned_clock):
    """The failure cases of tests/outbox/test_delivery.py, run by the queue's consumer threads (the
    after-commit task, then the periodic one each "minute") instead of calling deliver_due()."""
    from datetime import timedelta

    app.config.update(WEBHOOK_TIMEOUT=0.5, OUTBOX_BACKOFF_SECONDS=10)
    receiver.hang_seconds = 1.0
    keys = [m.idempotency_key for m in raise_event("report.approved", {"report": {"id": "r1"}})]
    keys += [m.idempotency_key for m in raise_event("warning.raised", {"warning": {"id": 1}})]

    def tried(n):  # every message tried n times, each time answered with a failure
        return wait_until(lambda: all(_attempts(k) == n and _status(k) == "pending" for k in keys))

    receiver.down()
    db.session.commit()  # the after-commit task: connection refused
    assert tried(1)
    receiver.up()
    receiver.mode = "500"
    pinned_clock.shift(timedelta(seconds=11))  # past the backoff (10 s base, 50–100 % jitter)
    queue.supervision_tasks["deliver_outbox_periodic"]()
    assert tried(2)
    receiver.mode = "hang"  # answers after 1 s; the sender gives up after 0.5 s
    pinned_clock.shift(timedelta(seconds=21))
    queue.supervision_tasks["deliver_outbox_periodic"]()
    assert tried(3)
    receiver.mode = "ok"
    pinned_clock.shift(timedelta(seconds=41))
    queue.supervision_tasks["deliver_outbox_periodic"]()
    assert wait_until(lambda: all(_status(k) == "sent" for k in keys))
    assert sorted(receiver.accepted) == sorted(keys) and set(receiver.accepted.values()) == {1}
    assert [_attempts(k) for k in keys] == [4, 4]
