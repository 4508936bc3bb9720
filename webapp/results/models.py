"""Using the results (policy 三(五), 五, 六): evaluation, points, training, warnings, policy
suggestions, supervisor profiles and visit ratings."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import UUIDPK, BigIntPK, Timestamps, UTCDateTime, UUIDStr, utcnow
from webapp.extensions import db


class Evaluation(UUIDPK, Timestamps, db.Model):
    """总结评估 for a visit or a plan."""

    __tablename__ = "evaluations"

    # At most one evaluation per visit and per plan (NULLs do not collide in a unique index).
    visit_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("visits.id"), index=True, unique=True)
    plan_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("plans.id"), index=True, unique=True)
    lessons: Mapped[str | None] = mapped_column(Text)
    went_well: Mapped[str | None] = mapped_column(Text)
    went_badly: Mapped[str | None] = mapped_column(Text)
    suggestions: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))


POINT_TRIGGERS = (
    "finding_severity",  # deduction per finding, by severity
    "accepted_first_round_on_time",  # bonus
    "overdue",  # deduction
    "acceptance_failed",  # deduction
)


class PointRule(UUIDPK, Timestamps, db.Model):
    __tablename__ = "point_rules"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    trigger: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str | None] = mapped_column(String(10))
    points: Mapped[float]
    applies_to: Mapped[str] = mapped_column(String(20), default="department")  # department | person
    active: Mapped[bool] = mapped_column(default=True)


class PointEntry(db.Model):
    """One line of the points ledger (绩效台账); it always names its cause.

    One entry per (rule, cause, target) ever — not per period — so posting is idempotent and a cause
    (e.g. an overdue rectification) counts once, in the period it was first posted."""

    __tablename__ = "point_entries"
    __table_args__ = (
        UniqueConstraint("rule_id", "cause_type", "cause_id", "target", name="uq_point_entries_cause"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    # "department:<id>" or "person:<id>": NULLs are distinct in a UNIQUE constraint, this key is not.
    target: Mapped[str] = mapped_column(String(80))
    # The finding behind the cause (itself, or the one a rectification / acceptance round belongs to):
    # the entry links to it, and is voided when it is deleted.
    finding_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("findings.id"), index=True)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the cause happened
    rule_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("point_rules.id"))
    department_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("departments.id"), index=True)
    person_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("people.id"), index=True)
    points: Mapped[float]
    cause_type: Mapped[str] = mapped_column(String(40))
    cause_id: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(10), index=True)  # e.g. 2026-Q4
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | appealed | voided
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rule = relationship("PointRule")
    department = relationship("Department")
    person = relationship("Person")
    finding = relationship("Finding")


class PointAppeal(UUIDPK, Timestamps, db.Model):
    __tablename__ = "point_appeals"

    entry_id: Mapped[int] = mapped_column(ForeignKey("point_entries.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    appellant_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | upheld | rejected
    decided_by: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    entry = relationship("PointEntry")


class TrainingPlan(UUIDPK, Timestamps, db.Model):
    __tablename__ = "training_plans"

    topic: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str | None] = mapped_column(Text)
    held_on: Mapped[date | None] = mapped_column(Date)
    trainer: Mapped[str | None] = mapped_column(String(80))
    area: Mapped[str | None] = mapped_column(String(20))
    item_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("template_items.id"))
    status: Mapped[str] = mapped_column(String(20), default="planned")

    attendance: Mapped[list["TrainingAttendance"]] = relationship()


class TrainingAttendance(db.Model):
    __tablename__ = "training_attendance"

    training_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("training_plans.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("people.id"), primary_key=True)
    attended: Mapped[bool] = mapped_column(default=False)


class DevelopmentNote(UUIDPK, Timestamps, db.Model):
    __tablename__ = "development_notes"

    person_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("people.id"), index=True)
    note: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))


WARNING_KINDS = ("high_severity_open", "score_drop", "repeat_problem", "overdue_rectifications")


class WarningRule(UUIDPK, Timestamps, db.Model):
    __tablename__ = "warning_rules"

    kind: Mapped[str] = mapped_column(String(40))
    threshold: Mapped[float]
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)


WARNING_LIVE = ("open", "acknowledged")


class Warning(UUIDPK, Timestamps, db.Model):
    """预警 raised to managers: ONE live warning per rule kind × subject (a site, a department) × problem
    (the checklist item or problem category; "" when the kind has none). A new occurrence of the same
    problem updates it (`occurrences`, `last_seen_on`) instead of raising another. The text is rendered
    when shown, in the reader's language, from `kind` and `params`; `message` keeps the text in the
    default language (CLI output, exports).

    Snoozed: `snoozed_until` after today (local date) — hidden from the open list and the counts until
    that day, when it is back by itself (the list's query decides; the daily check also clears it)."""

    __tablename__ = "warnings"
    __table_args__ = (
        # At most one live (open or acknowledged, snoozed or not) warning per kind, subject and problem,
        # even when two checks run at once (cron and the "Check now" button).
        Index("uq_warnings_live_subject", "kind", "subject_type", "subject_id", "problem_key", unique=True,
              sqlite_where=text("status IN ('open', 'acknowledged')"),
              postgresql_where=text("status IN ('open', 'acknowledged')")),
    )

    rule_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("warning_rules.id"))
    kind: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(40))
    # The problem within the subject: a checklist item id, "area:<area>", or "" (the kind is the problem).
    problem_key: Mapped[str] = mapped_column(String(60), default="", server_default="")
    message: Mapped[str] = mapped_column(Text)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    # How many occurrences (findings, visits, rectifications) this warning has grouped since it was
    # raised, their ids (so a re-check counts each once), and the local date of the latest.
    occurrences: Mapped[int] = mapped_column(default=1, server_default="1")
    occurrence_ids: Mapped[list] = mapped_column(JSON, default=list)
    last_seen_on: Mapped[date | None] = mapped_column(Date)
    acknowledged_by: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    snoozed_by: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    snoozed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snooze_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # NULL on a closed warning: closed by the check because its condition no longer held (or folded
    # into `merged_into` by the 0120 migration).
    closed_by: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    merged_into: Mapped[str | None] = mapped_column(String(36))


class PolicySuggestion(UUIDPK, Timestamps, db.Model):
    """制度优化: a suggested rule or process change."""

    __tablename__ = "policy_suggestions"

    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    source_type: Mapped[str | None] = mapped_column(String(20))  # evaluation | warning | finding
    source_id: Mapped[str | None] = mapped_column(String(40))
    owner_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    author_id: Mapped[str | None] = mapped_column(UUIDStr, ForeignKey("users.id"))  # who proposed it
    status: Mapped[str] = mapped_column(String(20), default="proposed", index=True)


class SupervisorProfile(UUIDPK, Timestamps, db.Model):
    __tablename__ = "supervisor_profiles"

    user_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"), unique=True)
    selection_source: Mapped[str] = mapped_column(String(20), default="internal")  # internal | external
    experience_years: Mapped[int | None]
    qualifications: Mapped[str | None] = mapped_column(Text)
    training_records: Mapped[list] = mapped_column(JSON, default=list)
    recognitions: Mapped[list] = mapped_column(JSON, default=list)

    user = relationship("User")


class VisitRating(UUIDPK, Timestamps, db.Model):
    """A department head rates a visit 1–5 (satisfaction and teamwork)."""

    __tablename__ = "visit_ratings"
    # One rating per visit per rater; rating again edits it.
    __table_args__ = (UniqueConstraint("visit_id", "rated_by", name="uq_visit_ratings_visit_rater"),)

    visit_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("visits.id"), index=True)
    rated_by: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    teamwork_note: Mapped[str | None] = mapped_column(Text)

    visit = relationship("Visit")
    rater = relationship("User")
