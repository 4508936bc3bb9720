"""Calibration (校准) use cases: scheduling a blind double inspection, and the agreement figures for
the supervisors' scorecards and the dashboard. Operations flush and never commit.

Blind: the second inspection is an ordinary visit owned by the second supervisor. The one rulebook
(webapp/authz.py) shows a supervisor only the visits they own and what is inside them, on the desk,
through the API and in the sync pull, so the second inspector never receives the first one's
answers, findings or photos; the pair itself is visible to management only."""

import random
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import aliased, selectinload

from webapp.audit.operations import record_audit
from webapp.auth.models import User
from webapp.authz import can
from webapp.checklists.models import TemplateItem
from webapp.extensions import db
from webapp.results.calibration.agreement import (
    Agreement,
    Comparison,
    agreement_by_item,
    agreement_by_supervisor,
    compare_answers,
    lowest,
)
from webapp.results.calibration.models import CalibrationPair
from webapp.results.periods import Period, local_date
from webapp.visits.models import ChecklistAnswer, Visit

DEFAULT_SAMPLE = 5


class CalibrationError(Exception):
    def __init__(self, message: str, fields: dict | None = None, status: int = 400):
        super().__init__(message)
        self.message, self.fields, self.status = message, fields or {}, status


def schedule_calibration(user, data: dict, rng: random.Random | None = None) -> CalibrationPair:
    """A second supervisor inspects the first visit's site and a sample of its checklist items,
    blind. `data`: first_visit_id, supervisor_id, scheduled_for, due_by, sample_size (0: every item)
    or item_ids, note."""
    if not can(user, "calibration.schedule", None):
        raise CalibrationError(_("Only management schedules calibration inspections."), status=403)
    errors = {}
    first = db.session.get(Visit, data["first_visit_id"])
    if first is None or first.deleted_at is not None:
        raise CalibrationError(_("Some fields are not valid."), {"first_visit_id": [_("Choose a visit.")]})
    second_sup = db.session.get(User, data["supervisor_id"])
    if second_sup is None or second_sup.role != "supervisor" or not second_sup.active:
        errors["supervisor_id"] = [_("Choose active supervisors only.")]
    elif second_sup.id == first.supervisor_id:
        errors["supervisor_id"] = [_("Choose a supervisor other than the first inspector.")]
    elif db.session.scalar(select(CalibrationPair.id).join(Visit, Visit.id == CalibrationPair.second_visit_id).where(
            CalibrationPair.first_visit_id == first.id, Visit.supervisor_id == second_sup.id,
            Visit.deleted_at.is_(None))):
        errors["supervisor_id"] = [_("This supervisor already has a calibration inspection of this visit.")]
    if data["due_by"] < data["scheduled_for"]:
        errors["due_by"] = [_("The window must end on or after its first day.")]
    items = sorted(db.session.scalars(select(TemplateItem).where(TemplateItem.template_id == first.template_id,
                                                                 TemplateItem.deleted_at.is_(None))),
                   key=lambda i: (i.position, i.code))
    if not items:
        errors["first_visit_id"] = [_("This visit's checklist has no items to compare.")]
    if errors:
        raise CalibrationError(_("Some fields are not valid."), errors)
    if data.get("item_ids"):
        known = {i.id for i in items}
        sample = [i for i in items if i.id in set(data["item_ids"]) & known]
    else:
        size = data.get("sample_size") or 0
        sample = items if size <= 0 or size >= len(items) else sorted(
            (rng or random.SystemRandom()).sample(items, size), key=lambda i: (i.position, i.code))
    lines = "\n".join(f"· {i.code} {i.title}" for i in sample)
    notes = _("Calibration inspection: judge these checklist items on your own.") + "\n" + lines
    if data.get("note"):
        notes += "\n" + data["note"]
    second = Visit(site_id=first.site_id, department_id=first.department_id, template_id=first.template_id,
                   supervisor_id=second_sup.id, status="scheduled", scheduled_for=data["scheduled_for"],
                   due_by=data["due_by"], preparation_notes=notes, preparation_done=[])
    db.session.add(second)
    db.session.flush()
    pair = CalibrationPair(first_visit_id=first.id, second_visit_id=second.id,
                           item_ids=[i.id for i in sample] if len(sample) < len(items) else [],
                           note=data.get("note"), created_by=user.id)
    db.session.add(pair)
    db.session.flush()
    record_audit(user, "calibration.scheduled", "calibration_pair", pair.id,
                 {"first_visit_id": first.id, "second_visit_id": second.id, "items": len(sample)})
    return pair


# ---- reading the pairs ---------------------------------------------------------------------------

@dataclass
class PairResult:
    pair: CalibrationPair
    first: Visit
    second: Visit
    comparison: Comparison | None  # None until both visits are completed

    @property
    def completed_at(self):
        if self.comparison is None:
            return None
        return max(self.first.completed_at, self.second.completed_at)


def _pairs(supervisor_id: str | None = None) -> list[tuple]:
    first, second = aliased(Visit), aliased(Visit)
    q = (select(CalibrationPair, first, second)
         .join(first, first.id == CalibrationPair.first_visit_id)
         .join(second, second.id == CalibrationPair.second_visit_id)
         .where(first.deleted_at.is_(None), second.deleted_at.is_(None))
         .options(selectinload(first.site), selectinload(second.site)))
    if supervisor_id:
        q = q.where((first.supervisor_id == supervisor_id) | (second.supervisor_id == supervisor_id))
    return db.session.execute(q.order_by(CalibrationPair.created_at.desc(), CalibrationPair.id)).all()


def pair_results(supervisor_id: str | None = None) -> list[PairResult]:
    rows = _pairs(supervisor_id)
    done_ids = [v.id for _p, a, b in rows for v in (a, b) if a.status == "completed" and b.status == "completed"]
    answers: dict[str, list] = {}
    if done_ids:
        for ans in db.session.scalars(select(ChecklistAnswer).where(ChecklistAnswer.visit_id.in_(done_ids),
                                                                   ChecklistAnswer.deleted_at.is_(None))):
            answers.setdefault(ans.visit_id, []).append(ans)
    out = []
    for pair, a, b in rows:
        both = a.status == "completed" and b.status == "completed" and a.completed_at and b.completed_at
        comparison = compare_answers(answers.get(a.id, []), answers.get(b.id, []), pair.item_ids) if both else None
        out.append(PairResult(pair, a, b, comparison))
    return out


def _in_period(result: PairResult, period: Period, tz) -> bool:
    return result.completed_at is not None and period.contains(local_date(result.completed_at, tz))


def supervisor_agreement(supervisor_id: str, period: Period, tz) -> Agreement:
    """The supervisor's agreement with peers over the calibration pairs completed in the period (the
    later of the two visits completed in it)."""
    return agreements_in(period, tz, supervisor_id).get(supervisor_id, Agreement())


def agreements_in(period: Period, tz, supervisor_id: str | None = None) -> dict[str, Agreement]:
    """Every supervisor's agreement with peers in the period (`supervisor_id`: only the pairs that
    supervisor took part in), by supervisor id: the ranking reads them all at once."""
    results = [r for r in pair_results(supervisor_id) if _in_period(r, period, tz)]
    return agreement_by_supervisor((r.first.supervisor_id, r.second.supervisor_id, r.comparison) for r in results)


@dataclass
class ItemAgreement:
    item: TemplateItem
    agreement: Agreement


def lowest_agreement_items(period: Period, tz, limit: int = 5) -> list[ItemAgreement]:
    """The checklist items judged least alike in the period's calibration pairs: criteria to
    clarify. Revisions of a template count as one item (template code + item code)."""
    results = [r for r in pair_results() if _in_period(r, period, tz)]
    item_ids = {i for r in results for i in r.comparison.items}
    if not item_ids:
        return []
    items = {i.id: i for i in db.session.scalars(select(TemplateItem).where(TemplateItem.id.in_(item_ids))
                                                 .options(selectinload(TemplateItem.template)))}
    key = {i.id: (i.template.code, i.code) for i in items.values()}
    representative = {}
    for i in items.values():  # the newest revision's wording names the item
        k = key[i.id]
        if k not in representative or i.template.revision > representative[k].template.revision:
            representative[k] = i
    by_item = agreement_by_item((r.comparison for r in results), key=lambda item_id: key[item_id])
    # Items always judged alike need no clarifying: only those with a disagreement are listed.
    return [ItemAgreement(representative[k], a) for k, a in lowest(by_item, limit) if a.rate < 1]


def calibratable_visits(limit: int = 200) -> list[Visit]:
    """Visits a calibration can start from: live, not themselves a second inspection."""
    seconds = select(CalibrationPair.second_visit_id)
    # Completed visits first, newest first (a calibration usually checks a recent judgement), then
    # the coming ones, soonest first.
    done = list(db.session.scalars(select(Visit).where(
        Visit.deleted_at.is_(None), Visit.id.not_in(seconds), Visit.status == "completed")
        .options(selectinload(Visit.site), selectinload(Visit.supervisor))
        .order_by(Visit.completed_at.desc(), Visit.id).limit(limit)))
    coming = list(db.session.scalars(select(Visit).where(
        Visit.deleted_at.is_(None), Visit.id.not_in(seconds), Visit.status != "completed")
        .options(selectinload(Visit.site), selectinload(Visit.supervisor))
        .order_by(Visit.scheduled_for, Visit.id).limit(limit)))
    return done + coming


