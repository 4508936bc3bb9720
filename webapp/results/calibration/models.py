"""Calibration (校准): a blind double inspection. A second supervisor inspects the same site and
checklist items as a first one without seeing the first one's answers; their agreement measures how
consistently the checklist is judged."""

from sqlalchemy import JSON, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import UUIDPK, Timestamps, UUIDStr
from webapp.extensions import db


class CalibrationPair(UUIDPK, Timestamps, db.Model):
    """Two visits of the same site with the same checklist revision. `item_ids` is the sample of
    items to compare (empty: every item); agreement is computed on the sampled items both answered."""

    __tablename__ = "calibration_pairs"

    first_visit_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("visits.id"), index=True)
    second_visit_id: Mapped[str] = mapped_column(UUIDStr, ForeignKey("visits.id"), unique=True)
    item_ids: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(UUIDStr, ForeignKey("users.id"))

    first_visit = relationship("Visit", foreign_keys=[first_visit_id])
    second_visit = relationship("Visit", foreign_keys=[second_visit_id])
