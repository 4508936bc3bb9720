"""The rule for completing a visit, one for the desk (webapp/visits/operations.py complete_visit)
and for a phone's push (webapp/sync_store/policy.py): when the visit's template says every item
must be answered (`require_all_answered`, the default), completing it with items unanswered needs
the supervisor's reason, which the desk shows beside the visit."""

from flask_babel import ngettext
from sqlalchemy import select

from webapp.checklists.models import ChecklistTemplate, TemplateItem
from webapp.core.clock import company_zone
from webapp.visits.models import ChecklistAnswer, Visit
from webapp.visits.scoring import visible_items

REASON_MAX = 2000


class CompletionError(Exception):
    """Completing as asked breaks the template's rule; the message says why, in the user's language."""


def answered_item_ids(session, visit) -> dict:
    """{item id: answer} for the items of `visit` with a result, as the session holds them now: answers loaded and
    changed in memory, and answers added but not flushed yet (a push applies a segment in memory
    before it writes it), count as they stand."""
    with session.no_autoflush:
        rows = list(session.scalars(select(ChecklistAnswer).where(ChecklistAnswer.visit_id == visit.id)))
    rows += [o for o in session.new if isinstance(o, ChecklistAnswer) and o.visit_id == visit.id]
    return {a.item_id: a for a in rows if a.result and a.deleted_at is None}


def unanswered_items(template: ChecklistTemplate | None, answered) -> list:
    """The template's items without a result. Given the answers ({item id: answer}), a conditional
    item whose condition is not met is not asked, so not unanswered (webapp/visits/scoring.py)."""
    items = list(template.items) if template is not None else []
    if isinstance(answered, dict):
        shown = visible_items(items, answered)
        items = [i for i in items if i.id in shown]
    return [i for i in items if i.id not in answered]


def check_completion(template: ChecklistTemplate | None, answered, reason: str | None) -> int:
    """Raise CompletionError when the template's rule needs a reason and none is given. Returns the
    number of unanswered items."""
    missing = len(unanswered_items(template, answered))
    if missing and template is not None and template.require_all_answered and not (reason or "").strip():
        raise CompletionError(ngettext(
            "%(num)d checklist item is unanswered: say why the visit is completed without it.",
            "%(num)d checklist items are unanswered: say why the visit is completed without them.", missing))
    return missing


def previous_results(session, visits: list) -> dict:
    """{visit id: {"visit_id", "date", "results": {item code: {"result", "note"}}}} — the last
    completed visit to each visit's site and what it found per checklist item (by item code, so a
    newer template revision still matches), for the checklist of a visit not completed yet."""
    site_ids = sorted({v.site_id for v in visits})
    if not site_ids:
        return {}
    latest: dict = {}  # site id → (visit id, completed_at, scheduled_for) of its latest completed visit
    done = session.execute(select(Visit.site_id, Visit.id, Visit.completed_at, Visit.scheduled_for)
                           .where(Visit.site_id.in_(site_ids), Visit.status == "completed", Visit.deleted_at.is_(None))
                           .order_by(Visit.completed_at.desc().nulls_last(), Visit.scheduled_for.desc()))
    for site_id, *rest in done:
        latest.setdefault(site_id, rest)
    results: dict[str, dict] = {visit_id: {} for visit_id, _c, _s in latest.values()}
    rows = session.execute(select(ChecklistAnswer.visit_id, TemplateItem.code, ChecklistAnswer.result,
                                  ChecklistAnswer.note)
                           .join(TemplateItem, TemplateItem.id == ChecklistAnswer.item_id)
                           .where(ChecklistAnswer.visit_id.in_(sorted(results)), ChecklistAnswer.deleted_at.is_(None),
                                  ChecklistAnswer.result.is_not(None)))
    for visit_id, code, result, note in rows:
        results[visit_id][code] = {"result": result, "note": note}
    tz = company_zone()  # the company's day, not UTC's
    out = {}
    for v in visits:
        prev = latest.get(v.site_id)
        if prev is not None and prev[0] != v.id:
            prev_id, completed_at, scheduled_for = prev
            when = completed_at.astimezone(tz).date() if completed_at else scheduled_for
            out[v.id] = {"visit_id": prev_id, "date": when.isoformat() if when else None, "results": results[prev_id]}
    return out
