"""Evidence anyone can check: where a supervisor checked in and out of a visit, and, per record
that carries a capture time, what the device's clock said against the server's (trusted time)."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import BigIntPK, Synced, UTCDateTime, UUIDStr, utcnow
from webapp.extensions import db

CHECKIN_KINDS = ("in", "out")


class VisitCheckin(Synced, db.Model):
    """签到/签退: the phone's position and clock when the supervisor opens (in) or closes (out) a
    visit on site. `distance_m` and `in_fence` are the server's, computed on push from the site."""

    __tablename__ = "visit_checkins"

    visit_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("visits.id"), index=True)
    kind: Mapped[str] = mapped_column(String(3), default="in")
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    device_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)  # why outside the fence (required then)
    distance_m: Mapped[float | None]  # server: to the site's coordinates; None when the site has none
    in_fence: Mapped[bool | None]  # server: distance ≤ the site's geofence radius; None when unknown

    visit = relationship("Visit")


class RecordEvidence(db.Model):
    """Trusted time of one record (or photo), written when the server first received it: the
    device's capture time, the server's receive time, the device clock's offset measured on that
    push (server receive time − device time) and the estimated true capture time."""

    __tablename__ = "record_evidence"
    __table_args__ = (UniqueConstraint("entity", "record_id", name="uq_record_evidence_entity_record"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(40))  # finding, checklist_answer, visit_checkin, photo
    record_id: Mapped[str] = mapped_column(String(64))  # a record's UUID, or a photo's SHA-256
    user_id: Mapped[str | None] = mapped_column(UUIDStr)
    device_id: Mapped[str | None] = mapped_column(UUIDStr)
    captured_device: Mapped[datetime | None] = mapped_column(UTCDateTime)  # as the device's clock said
    device_time: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the device clock at the push
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offset_seconds: Mapped[float | None]  # received_at − device_time; None when the device sent no clock
    estimated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # captured_device + offset
    flagged: Mapped[bool] = mapped_column(default=False)
