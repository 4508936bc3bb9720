"""Photo evidence, content-addressed by the SHA-256 of the original bytes."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
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
