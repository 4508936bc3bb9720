"""Bookkeeping of the sync protocol: the change sequence, revisions, applied mutations, conflicts."""

from datetime import datetime

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import BigIntPK, UTCDateTime, UUIDStr, utcnow
from webapp.extensions import db


class Change(db.Model):
    """One row per record in the server-wide change sequence; `seq` moves forward on every change.

    The scope columns let a pull filter by role without loading the records.
    """

    __tablename__ = "sync_changes"
    __table_args__ = (
        UniqueConstraint("entity", "record_id", name="uq_sync_changes_entity_record"),
        {"sqlite_autoincrement": True},  # a sequence number is never reused after its row moves
    )

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(UUIDStr)
    version: Mapped[int]
    deleted: Mapped[bool] = mapped_column(default=False)
    department_id: Mapped[str | None] = mapped_column(UUIDStr, index=True)
    supervisor_id: Mapped[str | None] = mapped_column(UUIDStr, index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Revision(db.Model):
    """Every accepted change, every losing side of a conflict and every resolution, with who/when/device."""

    __tablename__ = "revisions"
    __table_args__ = (Index("ix_revisions_entity_record_version", "entity", "record_id", "version"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(UUIDStr)
    version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))  # accepted | conflict | resolution | server
    data: Mapped[dict] = mapped_column(JSON)  # the full record after this version
    changed: Mapped[dict] = mapped_column(JSON, default=dict)  # the fields this change sent
    user_id: Mapped[str | None] = mapped_column(UUIDStr)
    device_id: Mapped[str | None] = mapped_column(UUIDStr)
    mutation_id: Mapped[str | None] = mapped_column(UUIDStr)
    client_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    server_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who made it when no user did, or how: "device", "web", "cli:<command>", "system".
    actor: Mapped[str | None] = mapped_column(String(80))


class AppliedMutation(db.Model):
    """Recorded in the same transaction as the mutation's effect: a retry returns this result."""

    __tablename__ = "sync_mutations"

    mutation_id: Mapped[str] = mapped_column(UUIDStr, primary_key=True)
    device_id: Mapped[str | None] = mapped_column(UUIDStr)
    user_id: Mapped[str | None] = mapped_column(UUIDStr)
    entity: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(UUIDStr)
    result: Mapped[dict] = mapped_column(JSON)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Conflict(db.Model):
    __tablename__ = "sync_conflicts"
    __table_args__ = (Index("ix_sync_conflicts_entity_record", "entity", "record_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(UUIDStr)
    field: Mapped[str] = mapped_column(String(60))
    base: Mapped[dict | None] = mapped_column(JSON)
    server: Mapped[dict | None] = mapped_column(JSON)
    client: Mapped[dict | None] = mapped_column(JSON)
    mutation_id: Mapped[str | None] = mapped_column(UUIDStr)
    user_id: Mapped[str | None] = mapped_column(UUIDStr)
    device_id: Mapped[str | None] = mapped_column(UUIDStr)
    client_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    resolved_by: Mapped[str | None] = mapped_column(UUIDStr)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[dict | None] = mapped_column(JSON)
    department_id: Mapped[str | None] = mapped_column(UUIDStr, index=True)
    supervisor_id: Mapped[str | None] = mapped_column(UUIDStr, index=True)


class ScopeExit(db.Model):
    """Records that left someone's scope at once (a visit reassigned or moved to another department,
    a finding given to another department): its row in the change feed, keyed by the old owner,
    tells their devices to drop what they may no longer see."""

    __tablename__ = "sync_scope_exits"

    id: Mapped[str] = mapped_column(UUIDStr, primary_key=True)
    records: Mapped[list] = mapped_column(JSON)  # [[entity, record_id], ...]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Device(db.Model):
    """A device id belongs to the user who first pushed with it; nobody else may push under it."""

    __tablename__ = "sync_devices"

    device_id: Mapped[str] = mapped_column(UUIDStr, primary_key=True)
    user_id: Mapped[str] = mapped_column(UUIDStr, index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
