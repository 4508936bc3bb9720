"""The outbox against a real local HTTP receiver: transactions, leases, retries, limits, workers."""

import threading
from datetime import timedelta

from sqlalchemy import func, select, text

from webapp.core.database import sqlite_reading
from webapp.extensions import db
from webapp.outbox import operations as ops
from webapp.outbox.models import DeliveryAttempt, OutboxMessage


def _enqueue(endpoint, n=1, event="finding.recorded"):
    made = [ops.enqueue_message("webhook", event, endpoint.id, {"event": event, "n": i}) for i in range(n)]
    keys = [m.idempotency_key for m in made]
    db.session.commit()
    return keys


def _count_committed() -> int:
    """What a worker could see: the committed rows, read on a connection of its own."""
    with sqlite_reading(), db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM outbox_messages")).scalar()


def _later(clock, seconds):
    clock.shift(timedelta(seconds=seconds))


def test_nothing_is_sent_for_a_rolled_back_transaction(app, endpoint, receiver):
    ops.enqueue_message("webhook", "finding.recorded", endpoint.id, {"x": 1})
    db.session.rollback()
    assert ops.deliver_due().claimed == 0
    assert receiver.raw == [] and db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_rolled_back_savepoint_drops_only_its_messages(app, endpoint, receiver):
    kept = ops.enqueue_message("webhook", "finding.recorded", endpoint.id, {"which": "kept"}).idempotency_key
    savepoint = db.session.begin_nested()
    ops.enqueue_message("webhook", "finding.recorded", endpoint.id, {"which": "dropped"})
    savepoint.rollback()
    db.session.commit()
    ops.deliver_due()
    assert list(receiver.accepted) == [kept]
    assert [b["which"] for b in receiver.bodies()] == ["kept"]


def test_nothing_is_visible_to_a_worker_before_commit(app, endpoint, receiver):
    ops.enqueue_message("webhook", "finding.recorded", endpoint.id, {"x": 1})  # flushed, not committed
    assert _count_committed() == 0
    huey = app.extensions.get("huey")
    assert huey is None or huey.pending_count() == 0  # and no delivery task was queued yet
    db.session.commit()
    assert _count_committed() == 1
    assert app.extensions["huey"].pending_count() == 1  # the after-commit nudge
    ops.deliver_due()
    assert len(receiver.accepted) == 1


def test_a_worker_killed_mid_batch_leaves_its_messages_to_another(app, endpoint, receiver, pinned_clock):
    keys = _enqueue(endpoint, 5)
    _token, claimed = ops.claim_due(worker="doomed", limit=3)  # claimed under a lease, then the worker dies
    assert len(claimed) == 3
    first = ops.deliver_due(worker="survivor")  # the other two only: the lease still holds
    assert first.sent == 2
    _later(pinned_clock, 61)  # past the lease
    second = ops.deliver_due(worker="survivor")
    assert second.sent == 3
    assert sorted(receiver.accepted) == sorted(keys) and set(receiver.accepted.values()) == {1}
    retaken = db.session.get(OutboxMessage, claimed[0].id)
    assert retaken.status == "sent" and retaken.attempts == 2


def test_receiver_down_then_up_is_retried_with_backoff(app, endpoint, receiver, pinned_clock):
    (key,) = _enqueue(endpoint)
    receiver.down()
    stats = ops.deliver_due()
    assert stats.retrying == 1
    msg = db.session.scalar(select(OutboxMessage))
    assert msg.status == "pending" and msg.attempts == 1 and "Connection" in (msg.last_error or "")
    wait = (msg.next_attempt_at - msg.created_at).total_seconds()
    assert 4 <= wait <= 11  # base 10 s with jitter (50–100 %)
    assert ops.deliver_due().claimed == 0  # not due yet
    receiver.up()
    _later(pinned_clock, 11)
    assert ops.deliver_due().sent == 1
    assert receiver.accepted[key] == 1
    attempts = db.session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)).all()
    assert [a.outcome for a in attempts] == ["error", "sent"] and attempts[1].status_code == 200


def test_backoff_grows_exponentially(app):
    delays = [ops.backoff_seconds(n) for n in range(1, 8)]
    # base·2^(n−1) capped at the maximum, then 50–100 % of it (the jitter applies to the capped delay).
    assert all(min(600, 10 * 2 ** (n - 1)) * 0.5 <= d <= min(600, 10 * 2 ** (n - 1))
               for n, d in zip(range(1, 8), delays, strict=True))


def test_500s_and_timeouts_are_retried_then_delivered(app, endpoint, receiver, pinned_clock):
    keys = _enqueue(endpoint, 2)
    receiver.mode = "500"
    assert ops.deliver_due().retrying == 2
    row = db.session.scalar(select(DeliveryAttempt).limit(1))
    assert row.status_code == 500 and "\x00" not in row.response and len(row.response) <= 500
    receiver.mode, receiver.hang_seconds = "hang", 2.5
    _later(pinned_clock, 30)
    assert ops.deliver_due().retrying == 2  # WEBHOOK_TIMEOUT is 1 s
    receiver.mode = "ok"
    _later(pinned_clock, 60)
    assert ops.deliver_due().sent == 2
    assert sorted(receiver.accepted) == sorted(keys)


def test_each_message_reaches_the_receiver_once_per_key(app, endpoint, receiver, pinned_clock):
    """The receiver processes a delivery but answers too late: the sender tries again, the same key
    comes back, the receiver drops it. Every key processed once, none lost."""
    keys = _enqueue(endpoint, 6)
    receiver.mode, receiver.hang_seconds = "ack_then_hang", 1.5
    ops.deliver_due(limit=2, max_batches=1)
    receiver.mode = "ok"
    for _ in range(4):
        _later(pinned_clock, 700)
        ops.deliver_due()
    assert receiver.duplicates == 2  # the first two, delivered twice
    assert sorted(receiver.accepted) == sorted(keys) and set(receiver.accepted.values()) == {1}
    assert {r["key"] for r in receiver.raw} == set(keys)
    assert db.session.scalar(select(func.count()).where(OutboxMessage.status == "sent")) == 6


def test_after_the_limit_a_message_fails_and_send_again_delivers(app, endpoint, receiver, pinned_clock):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    (key,) = _enqueue(endpoint)
    receiver.mode = "500"
    outcomes = []
    for _ in range(4):
        stats = ops.deliver_due()
        outcomes.append((stats.retrying, stats.failed))
        _later(pinned_clock, 700)
    assert outcomes == [(1, 0), (1, 0), (0, 1), (0, 0)]
    msg = db.session.scalar(select(OutboxMessage))
    assert msg.status == "failed" and msg.attempts == 3 and msg.last_error == "HTTP 500"
    receiver.mode = "ok"
    ops.retry_message(msg, None)
    db.session.commit()
    assert ops.deliver_due().sent == 1
    assert receiver.accepted[key] == 1
    assert db.session.get(OutboxMessage, msg.id).status == "sent"


def test_a_sent_message_cannot_be_sent_again(app, endpoint, receiver):
    _enqueue(endpoint)
    ops.deliver_due()
    msg = db.session.scalar(select(OutboxMessage))
    try:
        ops.retry_message(msg, None)
    except ops.NotRetryable:
        pass
    else:
        raise AssertionError("a sent message was reset")


def test_two_workers_in_parallel_never_deliver_the_same_message(app, endpoint, receiver):
    keys = _enqueue(endpoint, 40)
    receiver.delay = 0.01
    results, errors = [], []

    def work(name):
        try:
            with app.app_context():
                results.append(ops.deliver_due(limit=5, worker=name, max_batches=100))
                db.session.remove()
        except Exception as e:  # noqa: BLE001 — reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert receiver.overlaps == [] and len(receiver.raw) == 40  # never twice, never at the same time
    assert sorted(receiver.accepted) == sorted(keys)
    assert sum(r.sent for r in results) == 40
    assert all(r.sent > 0 for r in results)  # both took part


def test_the_key_and_a_valid_signature_travel_with_each_delivery(app, endpoint, receiver):
    import hashlib
    import hmac

    from webapp.outbox.webhooks import endpoint_secret

    (key,) = _enqueue(endpoint, event="report.approved")
    ops.deliver_due()
    (req,) = receiver.raw
    h = req["headers"]
    assert h["X-Supervision-Delivery"] == key and h["X-Supervision-Event"] == "report.approved"
    # The receiver's side, written independently of the app's helper:
    secret = endpoint_secret(endpoint.salt, app.config["SECRET_KEY"])
    expected = "sha256=" + hmac.new(secret.encode(), f"{h['X-Supervision-Timestamp']}.".encode() + req["body"],
                                    hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, h["X-Supervision-Signature"])
    wrong = hmac.new(b"not-the-secret", req["body"], hashlib.sha256).hexdigest()
    assert not hmac.compare_digest("sha256=" + wrong, h["X-Supervision-Signature"])


def test_private_targets_are_refused_unless_allowed(app, endpoint, receiver):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    _enqueue(endpoint)
    stats = ops.deliver_due()
    assert stats.failed == 1 and receiver.raw == []
    assert "private or local" in db.session.scalar(select(OutboxMessage.last_error))


def test_an_unknown_channel_is_refused_at_enqueue(app):
    import pytest

    with pytest.raises(ValueError):
        ops.enqueue_message("pigeon", "x", "1", {})


def test_the_same_idempotency_key_is_enqueued_once(app, endpoint):
    a = ops.enqueue_message("webhook", "finding.recorded", endpoint.id, {}, idempotency_key="k-1")
    b = ops.enqueue_message("webhook", "finding.recorded", endpoint.id, {}, idempotency_key="k-1")
    assert a.id == b.id


def test_a_batch_never_outlives_its_lease(app, endpoint, receiver):
    """A send may take its whole timeout: a worker leaves the rest of its batch (released, not an
    attempt) rather than send past its lease, when another worker may have taken the message."""
    app.config.update(OUTBOX_LEASE_SECONDS=6.5, WEBHOOK_TIMEOUT=1, SMTP_TIMEOUT=1)  # one send: 1 s + 5 s margin
    keys = _enqueue(endpoint, 3)
    receiver.delay = 1.2
    stats = ops.deliver_due(limit=3, max_batches=1)
    assert stats.sent == 0 and stats.retrying == 1  # the one send timed out; the other two given back
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.status, m.attempts, m.locked_by) for m in rows[1:]] == [("pending", 0, None)] * 2
    assert receiver.accepted.keys() <= set(keys)
