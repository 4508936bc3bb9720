"""Photo evidence, content-addressed by the SHA-256 of the original bytes."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import UTCDateTime, UUIDStr, utcnow
from webapp.extensions import db


class Photo(db.Model):
    __tablename__ = "photos"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(50))
    width: Mapped[int | None]
    height: Mapped[int | None]
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # from EXIF, never the sync time
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    variants: Mapped[dict] = mapped_column(JSON, default=dict)  # variant name → stored key
    uploaded_by: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PhotoRef(db.Model):
    """Which record refers to which photo: written with the record, in the same transaction, by a
    flush hook (webapp/photos/refs.py), whatever wrote it — a desk form, a sync push, an import.
    A photo GET decides access with one indexed lookup here instead of scanning JSON lists.
    No foreign key to photos: a phone may push the record before it uploads the photo."""

    __tablename__ = "photo_refs"
    __table_args__ = (Index("ix_photo_refs_record", "entity", "record_id"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    entity: Mapped[str] = mapped_column(String(40), primary_key=True)  # finding, checklist_answer, ...
    record_id: Mapped[str] = mapped_column(UUIDStr, primary_key=True)
