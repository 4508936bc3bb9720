"""Enqueue in the caller's transaction; deliver after commit, safely with several workers.

`enqueue_message` only adds and flushes: the message commits or rolls back with the change that
caused it, and no worker can see it before the commit. `deliver_due` is what a worker runs: it
claims due messages under a lease (PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED; SQLite: the one
writer lock), commits the claim, sends with no transaction open, then records the attempt. A worker
that dies mid-batch leaves its lease to expire; the next worker takes the message again.
"""

import logging
import os
import random
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from webapp.core.models import utcnow
from webapp.core.text import clean_text
from webapp.extensions import db
from webapp.outbox.channels import CHANNELS, DeliveryError, Message, PermanentError
from webapp.outbox.models import DeliveryAttempt, OutboxMessage

log = logging.getLogger("webapp.outbox")

DEFAULT_MAX_ATTEMPTS = 8


def enqueue_message(channel: str, event: str, recipient: str, payload: dict,
                    idempotency_key: str | None = None, *, delay_seconds: float = 0) -> OutboxMessage:
    """Write a message to deliver in the current transaction (flush only; never committed here).
    A key already enqueued returns that message instead of a second one."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    key = idempotency_key or f"{event}:{uuid.uuid4()}"
    if idempotency_key is not None:
        existing = db.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        if existing is not None:
            return existing
    message = OutboxMessage(channel=channel, event=event, recipient=str(recipient), payload=payload,
                            idempotency_key=key, status="pending", attempts=0,
                            next_attempt_at=utcnow() + timedelta(seconds=delay_seconds))
    db.session.add(message)
    db.session.flush()
    return message


# ---- claiming ---------------------------------------------------------------------------------------

def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{threading.get_ident() % 100000}"


def _due(now):
    return or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
               and_(OutboxMessage.status == "sending", OutboxMessage.locked_until < now))


def lease_seconds() -> float:
    return float(current_app.config.get("OUTBOX_LEASE_SECONDS") or 120)


def claim_due(worker: str | None = None, limit: int = 20) -> tuple[str, list[Message]]:
    """Claim up to `limit` due messages for one worker and commit the claim. Returns the claim token
    (kept in `locked_by`) and the messages. Each claim counts as an attempt, so a message that keeps
    killing workers still reaches the limit."""
    db.session.rollback()  # a claim is a transaction of its own
    now = utcnow()
    token = f"{(worker or worker_name())[:70]}/{secrets.token_hex(4)}"
    # A message whose last lease expired at the limit (its worker died every time) fails here.
    db.session.execute(update(OutboxMessage).where(
        OutboxMessage.status == "sending", OutboxMessage.locked_until < now,
        OutboxMessage.attempts >= max_attempts()).values(
        status="failed", locked_by=None, locked_until=None, last_error="lease expired at the attempt limit")
        .execution_options(synchronize_session=False))
    ids = select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    ids = ids.limit(limit)
    if db.engine.dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)  # rows another worker is claiming are skipped
    candidates = list(db.session.scalars(ids))
    if not candidates:
        db.session.rollback()
        return token, []
    # Conditional: only rows still due are taken (on SQLite the writer lock already serialises us).
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(candidates), _due(now)).values(
        status="sending", locked_by=token, locked_until=now + timedelta(seconds=lease_seconds()),
        attempts=OutboxMessage.attempts + 1).execution_options(synchronize_session=False))
    rows = db.session.execute(select(
        OutboxMessage.id, OutboxMessage.channel, OutboxMessage.event, OutboxMessage.recipient,
        OutboxMessage.payload, OutboxMessage.idempotency_key, OutboxMessage.attempts,
    ).where(OutboxMessage.locked_by == token).order_by(OutboxMessage.id)).all()
    db.session.commit()
    return token, [Message(*row) for row in rows]


# ---- sending ----------------------------------------------------------------------------------------

@dataclass
class DeliveryStats:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    keys: list = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed


def max_attempts() -> int:
    return int(current_app.config.get("OUTBOX_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: base·2^(n−1), capped, then a random 50–100 % of it."""
    cfg = current_app.config
    base = float(cfg.get("OUTBOX_BACKOFF_SECONDS") or 30)
    cap = float(cfg.get("OUTBOX_BACKOFF_MAX_SECONDS") or 3600)
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.5, 1.0)


def excerpt(text) -> str:
    return clean_text(str(text or ""))[:500]


def send_one(message: Message, token: str) -> str:
    """Send one claimed message and record the outcome. Returns sent | retrying | failed."""
    app = current_app._get_current_object()
    sender = CHANNELS.get(message.channel)
    started = time.perf_counter()
    error: DeliveryError | None = None
    try:
        if sender is None:
            raise PermanentError(f"no sender for channel {message.channel!r}")
        receipt = sender(message, app)
    except DeliveryError as e:
        error = e
    except Exception as e:  # a bug in a sender must not stop the batch, nor lose the message
        log.exception("sender %s crashed", message.channel)
        error = DeliveryError(f"{type(e).__name__}: {e}")
    duration = int((time.perf_counter() - started) * 1000)
    db.session.rollback()
    now = utcnow()
    mine = and_(OutboxMessage.id == message.id, OutboxMessage.locked_by == token)
    if error is None:
        db.session.add(DeliveryAttempt(message_id=message.id, at=now, worker=token[:80], outcome="sent",
                                       status_code=receipt.status_code, response=excerpt(receipt.response),
                                       duration_ms=duration))
        db.session.execute(update(OutboxMessage).where(mine).values(
            status="sent", sent_at=now, locked_by=None, locked_until=None, last_error=None)
            .execution_options(synchronize_session=False))
        db.session.commit()
        return "sent"
    permanent = isinstance(error, PermanentError) or message.attempts >= max_attempts()
    db.session.add(DeliveryAttempt(message_id=message.id, at=now, worker=token[:80], outcome="error",
                                   status_code=error.status_code,
                                   response=excerpt(error.response or str(error)), duration_ms=duration))
    values = {"locked_by": None, "locked_until": None, "last_error": excerpt(str(error))}
    if permanent:
        values["status"] = "failed"
    else:
        values.update(status="pending", next_attempt_at=now + timedelta(seconds=backoff_seconds(message.attempts)))
    db.session.execute(update(OutboxMessage).where(mine).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()
    log.info("delivery of %s (%s) failed: %s", message.idempotency_key, message.channel, error)
    return "failed" if permanent else "retrying"


def deliver_due(limit: int = 50, worker: str | None = None, max_batches: int = 20) -> DeliveryStats:
    """Claim and send due messages, batch after batch, until none is due (or `max_batches`).
    Runs its own transactions: call it from a worker, never inside a request's transaction."""
    stats = DeliveryStats()
    cfg = current_app.config
    # A send may take up to its timeout: never start one that could outlive the lease (another
    # worker would then take the message while it is still being sent).
    longest_send = timedelta(seconds=max(float(cfg.get("WEBHOOK_TIMEOUT") or 10),
                                         float(cfg.get("SMTP_TIMEOUT") or 10),
                                         3 * float(cfg.get("WORKAPP_TIMEOUT") or 10)) + 5)  # token + lookup + send
    for _ in range(max_batches):
        lease_ends = utcnow() + timedelta(seconds=lease_seconds())
        token, messages = claim_due(worker, limit)
        for i, message in enumerate(messages):
            if i > 0 and utcnow() + longest_send >= lease_ends:
                release(token, [m.id for m in messages[i:]])
                return stats
            outcome = send_one(message, token)
            setattr(stats, outcome, getattr(stats, outcome) + 1)
            if outcome == "sent":
                stats.keys.append(message.idempotency_key)
        if len(messages) < limit:
            break
    return stats


def release(token: str, ids: list[int]) -> None:
    """Give back claimed messages not tried (their claim does not count as an attempt)."""
    db.session.rollback()
    db.session.execute(update(OutboxMessage).where(
        OutboxMessage.id.in_(ids), OutboxMessage.locked_by == token, OutboxMessage.status == "sending").values(
        status="pending", locked_by=None, locked_until=None, attempts=OutboxMessage.attempts - 1)
        .execution_options(synchronize_session=False))
    db.session.commit()


# ---- for people --------------------------------------------------------------------------------------

class NotRetryable(ValueError):
    pass


def retry_message(message: OutboxMessage, user=None) -> OutboxMessage:
    """Send a failed message again: due now, with a fresh attempt count (flush only; audited)."""
    from webapp.audit.operations import record_audit

    if message.status != "failed":
        raise NotRetryable(message.status)
    message.status, message.attempts, message.next_attempt_at = "pending", 0, utcnow()
    message.locked_by = message.locked_until = None
    record_audit(user, "outbox.retry", "outbox_message", message.id,
                 {"channel": message.channel, "event": message.event, "key": message.idempotency_key})
    db.session.flush()
    mark_outbox_written(db.session())
    return message


def mark_outbox_written(session) -> None:
    session.info["outbox_written"] = True


def counts_by_status() -> dict[str, int]:
    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    counts = dict.fromkeys(("pending", "sending", "sent", "failed"), 0)
    counts.update({status: n for status, n in rows})
    return counts


# ---- webhook endpoints (administrators) -------------------------------------------------------------

def create_endpoint(user, name: str, url: str, events: list[str], active: bool = True):
    """A new endpoint with a fresh salt; returns (endpoint, its secret — shown once, stored nowhere)."""
    from webapp.audit.operations import record_audit
    from webapp.outbox.models import WebhookEndpoint
    from webapp.outbox.webhooks import endpoint_secret

    endpoint = WebhookEndpoint(name=name, url=url, events=sorted(set(events)), active=active,
                               salt=secrets.token_hex(16), created_by=getattr(user, "id", None))
    db.session.add(endpoint)
    db.session.flush()
    record_audit(user, "webhook.create", "webhook_endpoint", endpoint.id,
                 {"name": name, "url": url, "events": endpoint.events, "active": active})
    return endpoint, endpoint_secret(endpoint.salt, current_app.config["SECRET_KEY"])


def update_endpoint(endpoint, user, name: str, url: str, events: list[str], active: bool) -> None:
    from webapp.audit.operations import record_audit

    endpoint.name, endpoint.url, endpoint.events, endpoint.active = name, url, sorted(set(events)), active
    record_audit(user, "webhook.update", "webhook_endpoint", endpoint.id,
                 {"name": name, "url": url, "events": endpoint.events, "active": active})
    db.session.flush()


def rotate_endpoint_secret(endpoint, user) -> str:
    """A new salt, hence a new secret (returned to show once); the old one stops verifying at once."""
    from webapp.audit.operations import record_audit
    from webapp.outbox.webhooks import endpoint_secret

    endpoint.salt = secrets.token_hex(16)
    record_audit(user, "webhook.rotate_secret", "webhook_endpoint", endpoint.id, {})
    db.session.flush()
    return endpoint_secret(endpoint.salt, current_app.config["SECRET_KEY"])


# ---- work-app group robots (administrators) ---------------------------------------------------------

def create_robot(user, kind: str, name: str, url: str, secret: str, events: list[str]):
    """Register a group robot; its signing secret (if any) is stored encrypted and never shown again."""
    from webapp.audit.operations import record_audit
    from webapp.outbox.models import WorkAppRobot
    from webapp.outbox.workapps import encrypt_secret

    robot = WorkAppRobot(kind=kind, name=name, url=url, events=sorted(set(events)), active=True,
                         secret_encrypted=encrypt_secret(secret, current_app.config["SECRET_KEY"]) or None,
                         created_by=getattr(user, "id", None))
    db.session.add(robot)
    db.session.flush()
    record_audit(user, "robot.create", "workapp_robot", robot.id,
                 {"kind": kind, "name": name, "events": robot.events, "signed": bool(secret)})
    return robot


def set_robot_active(robot, user, active: bool) -> None:
    from webapp.audit.operations import record_audit

    robot.active = active
    record_audit(user, "robot.update", "workapp_robot", robot.id, {"active": active})
    db.session.flush()
