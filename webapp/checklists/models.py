"""Checklist templates (检查表模板). A template is versioned: editing makes a new version, and a visit
keeps the version it was started with, so past results never change."""

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import Synced, UUIDStr
from webapp.extensions import db

# The five content areas of policy chapter 四, in their order.
AREAS = ("process", "service", "efficiency", "risk", "teamwork")
SCORING = ("pass_fail", "points")
# How an item is answered (docs/checklists.md): pass/fail/n.a.; a score on a scale; one of several
# options, each worth a share of the item; a measured number, in range = pass.
ANSWER_TYPES = ("pass_fail", "scale", "choice", "number")


class ChecklistTemplate(Synced, db.Model):
    __tablename__ = "checklist_templates"
    __table_args__ = (UniqueConstraint("code", "revision", name="uq_checklist_templates_code_revision"),)

    code: Mapped[str] = mapped_column(String(40), index=True)  # the family; each revision is a row
    revision: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    is_current: Mapped[bool] = mapped_column(default=True)
    # Completing a visit with unanswered items needs a reason (webapp/visits/completion.py).
    require_all_answered: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The template library: the site classes (A/B/C…) this template is meant for; new visits to a
    # site of one of these classes offer it first. Empty: a template for every site.
    site_classes: Mapped[list] = mapped_column(JSON, default=list)

    items: Mapped[list["TemplateItem"]] = relationship(
        back_populates="template", order_by="TemplateItem.position", cascade="all, delete-orphan"
    )


class TemplateItem(Synced, db.Model):
    __tablename__ = "template_items"

    template_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("checklist_templates.id"), index=True)
    area: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    guidance: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[float] = mapped_column(default=1.0)
    scoring: Mapped[str] = mapped_column(String(20), default="pass_fail")
    max_points: Mapped[float] = mapped_column(default=10.0)
    photo_required_on_fail: Mapped[bool] = mapped_column(default=False)
    answer_type: Mapped[str] = mapped_column(String(20), default="pass_fail")
    criteria: Mapped[str | None] = mapped_column(Text)  # what "pass" means
    scale_min: Mapped[float | None]  # scale: the lowest and highest score
    scale_max: Mapped[float | None]
    # choice: [{"key": "o1", "label", "label_en", "score": 0..100 (share of the item), "fail": bool}]
    options: Mapped[list] = mapped_column(JSON, default=list)
    range_min: Mapped[float | None]  # number: in [range_min, range_max] passes (either end may be open)
    range_max: Mapped[float | None]
    unit: Mapped[str | None] = mapped_column(String(20))
    # Shown only when an earlier item (by code) has this answer: {"item": code, "answer": pass|fail|na|option key}
    condition: Mapped[dict | None] = mapped_column(JSON)
    reference_photos: Mapped[list] = mapped_column(JSON, default=list)  # sha256 hashes: what "good" looks like
    position: Mapped[int] = mapped_column(default=0)
    # Short titles a supervisor picks for a finding recorded from this item (常见问题).
    common_problems: Mapped[list | None] = mapped_column(JSON)

    template: Mapped[ChecklistTemplate] = relationship(back_populates="items")
