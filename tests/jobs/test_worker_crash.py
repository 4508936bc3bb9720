"""A real worker process (`flask --app webapp jobs worker`, as `make run` starts it) killed with
SIGKILL in the middle of a batch, then a new worker: what the outbox guarantees (docs/messages.md).

The guarantee is at-least-once delivery with a stable idempotency key, not exactly-once on the wire:
- a message whose "sent" was committed before the kill is never sent again;
- every message the dead worker had claimed (its lease: `sending`, `locked_until`) is taken again by
  the next worker once the lease has run out, with the same `X-Supervision-Delivery` key, and sent;
- the one(s) in flight at the kill may already have reached the receiver: those come twice, and a
  receiver that drops repeated keys (tests/receivers.py, as docs/messages.md asks) processes each key
  exactly once.

The queue is shared with the worker (Redis under a name of its own, or a SQLite file); the database
is the suite's (a SQLite file, or PostgreSQL under TEST_DATABASE_URL)."""

import os
import secrets
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.jobs.conftest import REDIS_URL, require_redis, wait_until
from webapp.core.database import sqlite_reading
from webapp.extensions import db
from webapp.jobs import get_huey
from webapp.outbox import operations as ops
from webapp.outbox.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
LEASE = 30  # seconds: longer than a whole batch (8 × 0.4 s plus the 7 s margin for the longest send)


@pytest.fixture(params=["redis", "sqlite"])
def shared_queue(request, app, tmp_path):
    """The queue's URL and name, set on the test's app too (its after-commit nudge lands there)."""
    if request.param == "redis":
        require_redis()
        url = REDIS_URL
    else:
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
    app.config.update(HUEY_URL=url, HUEY_NAME=f"test-crash-{secrets.token_hex(6)}")
    app.extensions.pop("huey", None)
    yield app.config["HUEY_URL"], app.config["HUEY_NAME"]
    huey = get_huey(app)
    huey.storage.flush_all()
    if request.param == "redis":
        huey.storage.conn.close()
    app.extensions.pop("huey", None)


def _start_worker(app, tmp_path, shared_queue, name, clock_ahead=0):
    url, queue_name = shared_queue
    env = {**os.environ,
           "PYTHONPATH": str(ROOT), "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": app.config["SECRET_KEY"], "INSTANCE_PATH": str(tmp_path / f"instance-{name}"),
           "MEDIA_ROOT": str(tmp_path / "media"), "HUEY_URL": url, "HUEY_NAME": queue_name,
           "WEBHOOK_ALLOW_PRIVATE": "1", "WEBHOOK_TIMEOUT": "2", "SMTP_TIMEOUT": "1", "WORKAPP_TIMEOUT": "0.5",
           "OUTBOX_LEASE_SECONDS": str(LEASE), "WORKER_CLOCK_AHEAD_SECONDS": str(clock_ahead)}
    env.pop("TESTING", None)
    log = open(tmp_path / f"worker-{name}.log", "wb")  # noqa: SIM115 — closed with the process
    proc = subprocess.Popen([sys.executable, "-m", "tests.jobs.worker_process", "--workers", "2"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proc.log_file = log
    return proc


def _stop(proc, sig=signal.SIGKILL):
    if proc.poll() is None:
        os.killpg(proc.pid, sig)  # the worker's whole process group
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    proc.log_file.close()


def _rows() -> dict[str, tuple[str, int]]:
    """key → (status, attempts), read as a page does (SQLite: no writer lock held while waiting)."""
    db.session.rollback()
    try:
        with sqlite_reading():
            return {k: (s, a) for k, s, a in db.session.execute(
                select(OutboxMessage.idempotency_key, OutboxMessage.status, OutboxMessage.attempts))}
    finally:
        db.session.rollback()


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_only_what_was_in_flight(
        app, endpoint, receiver, shared_queue, tmp_path):
    receiver.delay = 0.4  # a slow receiver: the batch takes ~3 s, the kill lands in its middle
    keys = [ops.enqueue_message("webhook", "finding.recorded", endpoint.id, {"n": i}).idempotency_key
            for i in range(8)]
    db.session.commit()  # the after-commit nudge puts a delivery task on the shared queue
    workers = [_start_worker(app, tmp_path, shared_queue, "first")]
    try:
        assert wait_until(lambda: len(receiver.raw) >= 3, timeout=30), (tmp_path / "worker-first.log").read_text()
        _stop(workers[0], signal.SIGKILL)  # no clean-up of any kind: its lease stays on its messages
        at_kill = _rows()
        sent_before = {k for k, (status, _) in at_kill.items() if status == "sent"}
        leased = {k for k, (status, _) in at_kill.items() if status == "sending"}
        assert sent_before and leased and sent_before | leased == set(keys)  # killed mid-batch
        assert all(attempts == 1 for _, attempts in at_kill.values())

        # The next worker, started once the lease has run out (its clock moved past it, not slept through).
        workers.append(_start_worker(app, tmp_path, shared_queue, "second", clock_ahead=LEASE + 5))
        assert wait_until(lambda: all(s == "sent" for s, _ in _rows().values()), timeout=30), \
            (tmp_path / "worker-second.log").read_text()
    finally:
        for proc in workers:
            _stop(proc, signal.SIGTERM)

    final = _rows()
    deliveries = Counter(r["key"] for r in receiver.raw)
    # Processed exactly once per key by a receiver that drops repeated keys; none lost.
    assert sorted(receiver.accepted) == sorted(keys) and set(receiver.accepted.values()) == {1}
    # Sent before the kill: never again. Leased by the dead worker: taken again, same key, second attempt.
    assert all(deliveries[k] == 1 and final[k] == ("sent", 1) for k in sent_before)
    assert all(final[k] == ("sent", 2) for k in leased)
    # Only what was in flight at the kill came twice (at most one per worker thread), and was dropped.
    repeated = {k for k, n in deliveries.items() if n > 1}
    assert repeated <= leased and len(repeated) <= 2 and max(deliveries.values()) <= 2
    assert receiver.duplicates == len(repeated)
    assert set(deliveries) == set(keys)
