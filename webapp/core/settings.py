"""Settings an administrator changes on a page (sign-in options, channels), kept in the database so
every app server and worker sees the same value. Environment variables give the defaults."""

from datetime import datetime

from flask import current_app
from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import UTCDateTime, UUIDStr, utcnow
from webapp.extensions import db


class AppSetting(db.Model):
    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(UUIDStr)


def get_setting(key: str, default=None):
    """The stored value for `key`, else the app config's `key.upper()`, else `default`."""
    row = db.session.get(AppSetting, key)
    if row is not None:
        return row.value.get("value", default)
    return current_app.config.get(key.upper(), default)


def set_setting(key: str, value, actor=None) -> AppSetting:
    """Store `value` (anything JSON can hold) under `key`; flushed, never committed here."""
    row = db.session.get(AppSetting, key)
    if row is None:
        row = AppSetting(key=key)
        db.session.add(row)
    row.value = {"value": value}
    row.updated_by = getattr(actor, "id", None)
    row.updated_at = utcnow()
    db.session.flush()
    return row
