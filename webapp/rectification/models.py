"""Rectification (整改): plan, progress, acceptance rounds (整改验收) and coordination (协调解决)."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, false, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import UUIDPK, BigIntPK, Synced, Timestamps, UTCDateTime, UUIDStr, utcnow
from webapp.extensions import db

RECTIFICATION_STATUSES = ("planned", "rectifying", "pending_acceptance", "accepted")


NOT_ACCEPTED = "status <> 'accepted'"


class Rectification(UUIDPK, Timestamps, db.Model):
    __tablename__ = "rectifications"
    __table_args__ = (
        # Overdue now: a short range of the rectifying ones instead of every past deadline.
        Index("ix_rectifications_status_deadline", "status", "deadline"),
        # The accepted ones of a period (the supervisors' ranking counts them by supervisor): a range,
        # not every rectification (0127). With the one above it serves a lookup by status alone.
        Index("ix_rectifications_status_accepted", "status", "accepted_at"),
        # The rectification list's default view, by deadline: only those not accepted (their findings
        # are the open work), walked in order instead of sorting every unclosed finding (0128). Queries
        # say its condition as `Rectification.not_accepted()`, in the words SQLite needs.
        Index("ix_rectifications_open_deadline", "deadline", sqlite_where=text(NOT_ACCEPTED),
              postgresql_where=text(NOT_ACCEPTED)),
        # The outcome rates join findings to these columns only (index-only at 100k rows).
        Index("ix_rectifications_outcome", "finding_id", "status", "round", "deadline", "accepted_at"),
        # The findings list's overdue filter probes one per finding being rectified: a partial index
        # of the rectifying ones is a fraction of the size (half the time at 1M findings).
        Index("ix_rectifications_rectifying", "finding_id", "deadline",
              sqlite_where=text("status = 'rectifying'"), postgresql_where=text("status = 'rectifying'")),
    )

    finding_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("findings.id"), unique=True)
    measures: Mapped[str] = mapped_column(Text)  # 整改措施
    owner: Mapped[str] = mapped_column(String(80))  # 责任人
    deadline: Mapped[date] = mapped_column(Date, index=True)  # 整改期限
    status: Mapped[str] = mapped_column(String(20), default="rectifying")
    round: Mapped[int] = mapped_column(default=1)
    submitted_by: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    finding = relationship("Finding")
    rounds: Mapped[list["AcceptanceRound"]] = relationship(order_by="AcceptanceRound.round")

    @classmethod
    def not_accepted(cls):
        """The rows of ix_rectifications_open_deadline (NOT_ACCEPTED), said so SQLite sees it: a
        literal, not a bound parameter."""
        return cls.status != literal_column("'accepted'")


class RectificationUpdate(Synced, db.Model):
    """Progress with evidence; also pushed from a department head's phone."""

    __tablename__ = "rectification_updates"

    finding_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("findings.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[int] = mapped_column(default=0)
    photos: Mapped[list] = mapped_column(JSON, default=list)
    author_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    # This report also submits the rectification for acceptance (the phone's offline "submit").
    submit: Mapped[bool] = mapped_column(default=False, server_default=false(), nullable=False)

    author = relationship("User")


class AcceptanceRound(db.Model):
    __tablename__ = "acceptance_rounds"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    rectification_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("rectifications.id"), index=True)
    round: Mapped[int]
    result: Mapped[str] = mapped_column(String(10))  # pass | fail
    reason: Mapped[str | None] = mapped_column(Text)
    new_deadline: Mapped[date | None] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The site's person signs the acceptance: {signer, signed_at, strokes} (webapp/evidence/markup.py).
    signature: Mapped[dict | None] = mapped_column(JSON)


class CoordinationNote(UUIDPK, Timestamps, db.Model):
    __tablename__ = "coordination_notes"

    finding_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("findings.id"), index=True)
    department_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("departments.id"))
    note: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))



# planned is kept for plans saved before work starts; a submitted plan starts at rectifying.
RECTIFICATION_TRANSITIONS = {
    "planned": ("rectifying",),
    "rectifying": ("pending_acceptance",),
    "pending_acceptance": ("accepted", "rectifying"),
    "accepted": (),
}
