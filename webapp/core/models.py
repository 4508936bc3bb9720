"""Column types and mixins shared by every feature's models."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String, TypeDecorator
from sqlalchemy.orm import Mapped, mapped_column


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; store times with a zone")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# BigInteger autoincrement does not work on SQLite; this keeps one type for both databases.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
UUIDStr = String(36)
JSONList = JSON  # set-valued fields (photo hashes, attendees) are stored as sorted JSON lists


class UUIDPK:
    id: Mapped[str] = mapped_column(UUIDStr, primary_key=True, default=new_id)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Synced(UUIDPK, Timestamps):
    """A record that travels through the sync protocol.

    `id` is the client-generated UUID, `version` grows by one on every accepted change, and a
    soft delete (`deleted_at`) keeps a tombstone so offline devices learn of the deletion.
    """

    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    has_conflict: Mapped[bool] = mapped_column(default=False, nullable=False)
