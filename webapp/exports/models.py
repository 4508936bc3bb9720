"""One export someone asked for: what, with which parameters, how far it got, and where the file is."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import UUIDPK, UTCDateTime, UUIDStr, utcnow
from webapp.extensions import db

STATUSES = ("queued", "running", "done", "failed", "expired")


class ExportJob(UUIDPK, db.Model):
    """`status`: queued → running → done (the file is in the object store under `file_key` until
    `expires_at`) or failed (`error` is a code, shown as a sentence in the reader's language);
    a done job whose file was removed by the cleanup becomes expired. The id is a random UUID and
    only the person who asked may see the row or download the file (webapp/authz.py)."""

    __tablename__ = "export_jobs"
    __table_args__ = (Index("ix_export_jobs_user_created", "user_id", "created_at"),)

    user_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(30))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    status: Mapped[str] = mapped_column(String(10), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    file_key: Mapped[str | None] = mapped_column(String(200))
    filename: Mapped[str | None] = mapped_column(String(200))
    mimetype: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "expired")
