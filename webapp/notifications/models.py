from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import BigIntPK, UTCDateTime, UUIDStr, utcnow
from webapp.extensions import db


class Notification(db.Model):
    """An in-app hand-over message (the bell)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserNotificationPreference(db.Model):
    """A person's choices (docs/messages.md): the kinds they do not want by email or work app (in-app
    is always on), quiet hours ("HH:MM"–"HH:MM" in the site's time zone: messages are delayed to
    their end, never dropped), and a daily email digest instead of one email per message."""

    __tablename__ = "user_notification_preferences"

    user_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"), primary_key=True)
    off: Mapped[dict] = mapped_column(JSON, default=dict)  # {"email": [kind, ...], "workapp": [kind, ...]}
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    email_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
