"""The formal supervision report (督导报告) per visit, preliminary communication notes and share links."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import UUIDPK, BigIntPK, Timestamps, UTCDateTime, UUIDStr, utcnow
from webapp.extensions import db

REPORT_STATUSES = ("draft", "submitted", "returned", "approved", "communicated", "acknowledged")
REPORT_TRANSITIONS = {
    "draft": ("submitted",),
    "submitted": ("approved", "returned"),
    "returned": ("submitted",),
    "approved": ("communicated",),
    "communicated": ("acknowledged",),
    "acknowledged": (),
}


class Report(UUIDPK, Timestamps, db.Model):
    """Approved reports are locked; a change makes a new version that supersedes the old one."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("visit_id", "version_no", name="uq_reports_visit_version"),)

    visit_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("visits.id"), index=True)
    version_no: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    title: Mapped[str] = mapped_column(String(200))
    plan_execution: Mapped[str | None] = mapped_column(Text)
    highlights: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[str | None] = mapped_column(Text)
    analysis: Mapped[str | None] = mapped_column(Text)
    recommendations: Mapped[str | None] = mapped_column(Text)
    area_scores: Mapped[dict] = mapped_column(JSON, default=dict)
    author_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))
    reviewer_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    review_comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    communicated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supersedes_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("reports.id"))

    visit = relationship("Visit")
    author = relationship("User", foreign_keys=[author_id])

    @property
    def locked(self) -> bool:
        return self.status in ("approved", "communicated", "acknowledged")


class CommunicationNote(UUIDPK, Timestamps, db.Model):
    """初步沟通: the talk with the department head after the visit."""

    __tablename__ = "communication_notes"

    visit_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("visits.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    attendees: Mapped[list] = mapped_column(JSON, default=list)
    causes: Mapped[str | None] = mapped_column(Text)
    solutions: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))


class ShareLink(db.Model):
    """A revocable read-only link to a report that expires; only the token's hash is stored."""

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("reports.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReportSnapshot(db.Model):
    """What an approved report version showed, frozen at approval: everything the page, the PDF and the
    share link render (`data`), its SHA-256 over the canonical JSON, who approved it and when."""

    __tablename__ = "report_snapshots"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("reports.id"), unique=True)
    version_no: Mapped[int]
    data: Mapped[dict] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    approver = relationship("User")
