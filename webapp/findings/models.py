"""Findings (问题): a problem recorded on site with its evidence."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import BigIntPK, Synced, UTCDateTime, UUIDStr, utcnow
from webapp.extensions import db

SEVERITIES = ("low", "medium", "high", "critical")
# open 待整改 → rectifying 整改中 → pending_acceptance 待验收 → closed 已关闭; a manager may reopen.
FINDING_STATUSES = ("open", "rectifying", "pending_acceptance", "closed")
FINDING_TRANSITIONS = {  # moved only by the rectification operations (webapp/rectification)
    "open": ("rectifying",),
    "rectifying": ("pending_acceptance",),
    "pending_acceptance": ("rectifying", "closed"),
    "closed": (),
}
# The manager's review of a finding (docs/review.md#the-review-step): a finding synced from a phone awaits
# review; only confirmed findings count in the KPIs and may start a rectification.
REVIEW_STATUSES = ("pending", "confirmed", "rejected", "merged")
REVIEW_TRANSITIONS = {
    "pending": ("confirmed", "rejected", "merged"),
    "confirmed": ("rejected", "merged"),  # while no rectification has started (webapp/findings/review.py)
    "rejected": ("confirmed",),
    "merged": (),
}
# The fields a reviewer may correct, in the order the form shows them.
CORRECTABLE = ("title", "severity", "area", "item_id", "description", "impact")


# The rows of the overdue filter's index: live findings that keep a rectification deadline.
BEING_RECTIFIED = text("rectification_deadline IS NOT NULL AND deleted_at IS NULL")
# The rows of the review queue's index: live findings whose review is anything but a confirmation —
# awaiting review, rejected or merged. Queries say it as `Finding.in_review()`, in the same words:
# SQLite takes a partial index only for a query that repeats its condition (0126).
IN_REVIEW = "review_status <> 'confirmed' AND deleted_at IS NULL"


class Finding(Synced, db.Model):
    __tablename__ = "findings"
    __table_args__ = (
        Index("ix_findings_captured_id", "captured_at", "id"),  # keyset pagination
        Index("ix_findings_department_captured", "department_id", "captured_at"),
        # A department's open findings of a period (the dashboard's "who is fixing it"): three status ranges.
        Index("ix_findings_department_status_captured", "department_id", "status", "captured_at"),
        # One (filter, captured_at, id) index per common list filter: the newest page of a filtered
        # list is read in index order instead of sorting every match (findings review at 100k rows).
        # They serve lookups by the filter column alone too: no one-column index beside them (0124).
        Index("ix_findings_site_captured", "site_id", "captured_at", "id"),
        Index("ix_findings_supervisor_captured", "supervisor_id", "captured_at", "id"),
        Index("ix_findings_severity_captured", "severity", "captured_at", "id"),
        Index("ix_findings_status_captured", "status", "captured_at", "id"),
        Index("ix_findings_area_captured", "area", "captured_at", "id"),
        Index("ix_findings_conflict_captured", "has_conflict", "captured_at", "id"),
        # The overdue filter: the findings being rectified, newest first, each with its deadline, so a
        # page skips in the index those not yet due (0125).
        Index("ix_findings_rectifying_deadline", "captured_at", "id", "rectification_deadline", "status",
              sqlite_where=BEING_RECTIFIED, postgresql_where=BEING_RECTIFIED),
        # The review queue, oldest first, and its count: only the findings not confirmed (the few),
        # with the scope's and the queue's filter columns, so counting a backlog of tens of thousands
        # reads the index alone (0126; docs/benchmarks.md, "Review queue").
        Index("ix_findings_review_queue", "review_status", "captured_at", "id", "department_id", "site_id",
              "supervisor_id", sqlite_where=text(IN_REVIEW), postgresql_where=text(IN_REVIEW)),
        # The results dashboard's aggregates (webapp/results/dashboard/measures.py) read only these
        # columns of a captured_at range: covering, they are index-only scans at 100k rows.
        Index("ix_findings_results", "captured_at", "deleted_at", "department_id", "site_id", "area", "item_id",
              "severity", "supervisor_id", "repeat_of_id", "id"),
    )

    visit_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("visits.id"), index=True)
    # Copied from the visit so lists filter without joins at 100k rows.
    site_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("sites.id"))
    supervisor_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)  # 表现形式
    impact: Mapped[str | None] = mapped_column(Text)  # 影响范围
    area: Mapped[str | None] = mapped_column(String(20))
    item_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("template_items.id"))
    severity: Mapped[str] = mapped_column(String(10), default="medium")
    department_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("departments.id"))
    responsible_person: Mapped[str | None] = mapped_column(String(80))
    photos: Mapped[list] = mapped_column(JSON, default=list)
    # Vector markup per photo, {sha256: [shape, ...]} (webapp/evidence/markup.py); the photo stays untouched.
    markup: Mapped[dict | None] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="open")
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    repeat_of_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("findings.id"))
    # The deadline of its rectification while that is being rectified, else NULL: a copy kept by
    # webapp/rectification/deadlines.py for the overdue filter (not synced, no version of its own).
    rectification_deadline: Mapped[date | None] = mapped_column(Date)
    review_status: Mapped[str] = mapped_column(String(20), default="pending", server_default="confirmed")
    review_reason: Mapped[str | None] = mapped_column(Text)  # why rejected (the supervisor sees it)
    # Plain columns, no foreign keys: adding one would make SQLite rebuild the table and drop the
    # full-text triggers of migration 0002.
    merged_into_id: Mapped[str | None] = mapped_column(UUIDStr)  # the finding this one was merged into
    reviewed_by: Mapped[str | None] = mapped_column(UUIDStr)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    visit = relationship("Visit", back_populates="findings")
    site = relationship("Site")
    department = relationship("Department")
    supervisor = relationship("User", foreign_keys=[supervisor_id])
    item = relationship("TemplateItem")
    # Set by webapp/findings/repeats.py; a relationship so a stored finding can point to one inserted in
    # the same flush (the unit of work then inserts before it updates).
    repeat_of = relationship("Finding", remote_side="Finding.id", foreign_keys=[repeat_of_id])

    @classmethod
    def counted(cls):
        """The findings the KPIs count: not deleted, confirmed by review (`counts` for values in hand)."""
        return cls.deleted_at.is_(None) & (cls.review_status == "confirmed")

    @staticmethod
    def counts(deleted_at, review_status) -> bool:
        """`counted()` for a finding's values in Python (as stored, or as they are now)."""
        return deleted_at is None and review_status == "confirmed"

    @classmethod
    def in_review(cls):
        """The rows of the review queue's index (IN_REVIEW), said so that SQLite sees it: a literal,
        not a bound parameter. Add it to a query of findings awaiting review, rejected or merged."""
        return (cls.review_status != literal_column("'confirmed'")) & cls.deleted_at.is_(None)

    @classmethod
    def standing(cls):
        """The findings that still stand as problems: not deleted, not rejected or merged away in review
        (awaiting review or confirmed)."""
        return cls.deleted_at.is_(None) & cls.review_status.in_(("pending", "confirmed"))
    comments: Mapped[list["FindingComment"]] = relationship(order_by="FindingComment.created_at")


class FindingComment(db.Model):
    __tablename__ = "finding_comments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    finding_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("findings.id"), index=True)
    author_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User")



class FindingReview(db.Model):
    """One review act on a finding — who, when, why, what changed (field: [before, after])."""

    __tablename__ = "finding_reviews"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    finding_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("findings.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # confirm | reject | correct | merge | merged_in
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    other_id: Mapped[str | None] = mapped_column(UUIDStr)  # the other finding of a merge
    user_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")
