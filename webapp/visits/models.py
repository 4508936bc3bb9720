"""On-site visits (现场督导) and their parts: opening meeting, checklist answers, figures, interviews."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import Synced, UTCDateTime, UUIDStr
from webapp.extensions import db

VISIT_STATUSES = ("scheduled", "in_progress", "completed")
VISIT_TRANSITIONS = {
    "scheduled": ("in_progress", "completed"),
    "in_progress": ("completed",),
    "completed": ("in_progress",),  # reopened to add a late record
}
RESULTS = ("pass", "fail", "na")
METRIC_KINDS = ("business", "financial", "customer")


class Visit(Synced, db.Model):
    __tablename__ = "visits"
    __table_args__ = (
        # A plan's progress, counted by plan and supervisor (webapp/plans/progress.py
        # progress_columns): index-only, not a read of a chain plan's 71,429 rows (0129).
        Index("ix_visits_plan_progress", "plan_id", "supervisor_id", "status", "due_by", "scheduled_for", "deleted_at",
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
        # A plan's visits a page at a time, by day then id: a walk of the plan's part (0129).
        Index("ix_visits_plan_day", "plan_id", "scheduled_for", "id",
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
    )

    site_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("sites.id"), index=True)
    # Copied from the site when the visit is created: the dept_head scope filters on it.
    department_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("departments.id"), index=True)
    template_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("checklist_templates.id"))
    plan_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("plans.id"), index=True)
    supervisor_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    scheduled_for: Mapped[date | None] = mapped_column(Date, index=True)
    due_by: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    preparation_notes: Mapped[str | None] = mapped_column(Text)
    preparation_done: Mapped[list] = mapped_column(JSON, default=list)  # ticked preparation steps
    summary: Mapped[str | None] = mapped_column(Text)
    # The site's person signs the opening and the closing meeting: {signer, signed_at, strokes}
    # (vector strokes, webapp/evidence/markup.py), or None.
    opening_signature: Mapped[dict | None] = mapped_column(JSON)
    closing_signature: Mapped[dict | None] = mapped_column(JSON)
    completion_reason: Mapped[str | None] = mapped_column(Text)  # why items were left unanswered

    site = relationship("Site")
    department = relationship("Department")
    template = relationship("ChecklistTemplate")
    plan = relationship("Plan", back_populates="visits")
    supervisor = relationship("User", foreign_keys=[supervisor_id])
    answers: Mapped[list["ChecklistAnswer"]] = relationship(back_populates="visit")
    findings = relationship("Finding", back_populates="visit", order_by="Finding.captured_at")


class Meeting(Synced, db.Model):
    """首次会议: the opening meeting with the department."""

    __tablename__ = "meetings"

    visit_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("visits.id"), index=True)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attendees: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    department_report: Mapped[str | None] = mapped_column(Text)

    visit: Mapped[Visit] = relationship()


class ChecklistAnswer(Synced, db.Model):
    __tablename__ = "checklist_answers"
    __table_args__ = (UniqueConstraint("visit_id", "item_id", name="uq_checklist_answers_visit_item"),)

    visit_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("visits.id"), index=True)
    item_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("template_items.id"))
    result: Mapped[str | None] = mapped_column(String(10))
    score: Mapped[float | None]  # a scale item's score (and a points item's)
    choice: Mapped[str | None] = mapped_column(String(40))  # a choice item's option key
    value: Mapped[float | None]  # a number item's measured value
    note: Mapped[str | None] = mapped_column(Text)
    photos: Mapped[list] = mapped_column(JSON, default=list)

    visit: Mapped[Visit] = relationship(back_populates="answers")
    item = relationship("TemplateItem")


class Metric(Synced, db.Model):
    """数据收集: a business, financial or customer-feedback figure collected on site."""

    __tablename__ = "metrics"

    visit_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("visits.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    value: Mapped[float | None]
    unit: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)

    visit: Mapped[Visit] = relationship()


class Interview(Synced, db.Model):
    """人员访谈."""

    __tablename__ = "interviews"

    visit_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("visits.id"), index=True)
    interviewee: Mapped[str] = mapped_column(String(80))
    position: Mapped[str | None] = mapped_column(String(80))
    notes: Mapped[str | None] = mapped_column(Text)
    suggestions: Mapped[str | None] = mapped_column(Text)
    interviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    visit: Mapped[Visit] = relationship()
