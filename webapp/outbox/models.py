"""The outbox: one row per message to deliver, one row per delivery attempt, and webhook endpoints."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import UUIDPK, BigIntPK, UTCDateTime, UUIDStr, utcnow
from webapp.extensions import db

STATUSES = ("pending", "sending", "sent", "failed", "skipped", "digest", "digested")


class OutboxMessage(db.Model):
    """A message written in the transaction of the change that caused it, delivered after commit.

    `status`: pending (due at `next_attempt_at`) → sending (leased by `locked_by` until
    `locked_until`; an expired lease makes it due again) → sent, or failed after the attempt limit.
    `idempotency_key` travels with every delivery so a receiver can drop duplicates."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(20))
    event: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[str] = mapped_column(String(320))  # user id, address or endpoint id, per channel
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(80))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(db.Model):
    """One try at delivering a message: what the receiver answered and how long it took."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("outbox_messages.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    worker: Mapped[str | None] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(10))  # sent | error
    status_code: Mapped[int | None] = mapped_column(Integer)  # HTTP status or SMTP reply code
    response: Mapped[str | None] = mapped_column(String(500))  # cleaned excerpt
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


class WebhookEndpoint(UUIDPK, db.Model):
    """A receiver registered by an administrator. Its shared secret is never stored: it is
    HMAC-SHA256(SECRET_KEY, salt), derived when signing and shown once when made (docs/messages.md)."""

    __tablename__ = "webhook_endpoints"

    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    salt: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"))


class WorkAppRobot(UUIDPK, db.Model):
    """A WeCom / DingTalk / Feishu group robot registered by an administrator. Its signing secret is
    given by the work app, so it is stored, encrypted (Fernet, key derived from SECRET_KEY), and never
    shown again."""

    __tablename__ = "workapp_robots"

    kind: Mapped[str] = mapped_column(String(10))  # wecom | dingtalk | feishu
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    secret_encrypted: Mapped[str | None] = mapped_column(String(400))
    events: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
