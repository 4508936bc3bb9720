"""Supervision plans (督导计划): annual / quarterly / monthly, approved by management, then published."""

from datetime import date, datetime

from sqlalchemy import JSON, Column, Date, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import UUIDPK, BigIntPK, Synced, Timestamps, UTCDateTime, UUIDStr, utcnow
from webapp.extensions import db

PERIOD_TYPES = ("annual", "quarterly", "monthly")
PLAN_STATUSES = ("draft", "submitted", "returned", "approved", "published", "closed")
PLAN_TRANSITIONS = {
    "draft": ("submitted",),
    "submitted": ("approved", "returned"),
    "returned": ("submitted",),
    "approved": ("published", "returned"),
    "published": ("closed",),
    "closed": (),
}

plan_departments = Table(
    "plan_departments",
    db.metadata,
    Column("plan_id", UUIDStr, ForeignKey("plans.id"), primary_key=True),
    Column("department_id", UUIDStr, ForeignKey("departments.id"), primary_key=True),
)
plan_sites = Table(
    "plan_sites",
    db.metadata,
    Column("plan_id", UUIDStr, ForeignKey("plans.id"), primary_key=True),
    Column("site_id", UUIDStr, ForeignKey("sites.id"), primary_key=True),
)


class Plan(Synced, db.Model):
    __tablename__ = "plans"

    title: Mapped[str] = mapped_column(String(200))
    period_type: Mapped[str] = mapped_column(String(20))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    parent_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("plans.id"))
    goals: Mapped[str | None] = mapped_column(Text)
    focus_areas: Mapped[list] = mapped_column(JSON, default=list)  # codes from checklists.AREAS
    focus_notes: Mapped[str | None] = mapped_column(Text)
    methods: Mapped[str | None] = mapped_column(Text)
    staffing: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    author_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))
    reviewer_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    review_comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    parent: Mapped["Plan | None"] = relationship(remote_side="Plan.id")
    author = relationship("User", foreign_keys=[author_id])
    reviewer = relationship("User", foreign_keys=[reviewer_id])
    departments = relationship("Department", secondary=plan_departments)
    sites = relationship("Site", secondary=plan_sites)
    notes: Mapped[list["PlanNote"]] = relationship(back_populates="plan", order_by="PlanNote.created_at")
    visits = relationship("Visit", back_populates="plan", order_by="Visit.scheduled_for")
    schedule: Mapped[list["ScheduledVisit"]] = relationship(
        back_populates="plan", order_by="ScheduledVisit.window_start",
        cascade="all, delete-orphan")


class ScheduledVisit(UUIDPK, Timestamps, db.Model):
    """One row of a plan's schedule (时间安排): a site, a date window, the assigned supervisors and a
    checklist template. It is NOT a Visit: the change feed sends every Visit row to its supervisor's
    phone, so the Visit rows are created only when the plan is published (one per supervisor)."""

    __tablename__ = "plan_schedule"

    plan_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("plans.id"), index=True)
    site_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("sites.id"))
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    supervisor_ids: Mapped[list] = mapped_column(JSON, default=list)  # sorted user ids
    template_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("checklist_templates.id"))
    note: Mapped[str | None] = mapped_column(Text)
    visit_ids: Mapped[list] = mapped_column(JSON, default=list)  # filled in on publish

    plan: Mapped[Plan] = relationship(back_populates="schedule")
    site = relationship("Site")
    template = relationship("ChecklistTemplate")


NOTE_KINDS = ("gather", "analyse")  # 收集信息 / 分析评估


class PlanNote(UUIDPK, Timestamps, db.Model):
    __tablename__ = "plan_notes"

    plan_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("plans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))

    plan: Mapped[Plan] = relationship(back_populates="notes")
    attachments: Mapped[list["Attachment"]] = relationship(back_populates="note")


class Attachment(db.Model):
    """A supporting file kept content-addressed in the media store."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    note_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("plan_notes.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    uploaded_by: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    note: Mapped[PlanNote | None] = relationship(back_populates="attachments")


# ---- recurring visits (例行巡店): a rule by site class, and the visits generated from it ----------

RECURRENCE_INTERVALS = (1, 2, 3, 6, 12)  # months: monthly, bimonthly, quarterly, half-yearly, yearly
COMPANY_SCOPE = "company"


class RecurrenceRule(UUIDPK, Timestamps, db.Model):
    """How often the sites of one class are visited (e.g. class A monthly, B quarterly, C half-yearly),
    for the whole company or for one department's sites; a department's rule overrides the company's.
    Cycles are aligned to the calendar year: a quarterly site is due once in each calendar quarter."""

    __tablename__ = "recurrence_rules"
    __table_args__ = (UniqueConstraint("scope_key", "site_class", name="uq_recurrence_rules_scope_class"),)

    # COMPANY_SCOPE or the department's id: a unique key that is never NULL (NULLs never clash in SQL).
    scope_key: Mapped[str] = mapped_column(String(40))
    department_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("departments.id"))
    site_class: Mapped[str] = mapped_column(String(20))
    interval_months: Mapped[int] = mapped_column(Integer)
    template_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("checklist_templates.id"))
    updated_by: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"))

    department = relationship("Department")
    template = relationship("ChecklistTemplate")


class RecurringVisit(db.Model):
    """Marks a visit generated for a site's cycle. The unique (site, cycle) key makes generation
    idempotent even when two generations run at once."""

    __tablename__ = "recurring_visits"
    __table_args__ = (UniqueConstraint("site_id", "cycle_start", name="uq_recurring_visits_site_cycle"),)

    visit_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("visits.id"), primary_key=True)
    site_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("sites.id"), index=True)
    cycle_start: Mapped[date] = mapped_column(Date)
    interval_months: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
