"""The checklist answers of a visit as the desk shows them: each item with its answer in the
item's own terms (a measured value against its range, a score on its scale, the option chosen)
and its result by the scoring rules (webapp/visits/scoring.py)."""

from flask_babel import gettext as _

from webapp.visits.scoring import answer_result, answer_type, item_points, scale_bounds, visible_items


def _fmt(x) -> str:
    return f"{x:g}" if x is not None else ""


def option_label(item, key, locale: str) -> str | None:
    for opt in item.options or []:
        if opt.get("key") == key:
            return (locale == "en" and opt.get("label_en")) or opt.get("label")
    return None


def range_text(item) -> str:
    low, high, unit = item.range_min, item.range_max, item.unit or ""
    if low is not None and high is not None:
        return _("%(low)s–%(high)s %(unit)s", low=_fmt(low), high=_fmt(high), unit=unit).strip()
    if low is not None:
        return _("at least %(low)s %(unit)s", low=_fmt(low), unit=unit).strip()
    return _("at most %(high)s %(unit)s", high=_fmt(high), unit=unit).strip()


def answer_text(item, answer, locale: str) -> str:
    """The typed answer in words, or "" when there is none beyond pass/fail."""
    if answer is None or answer.result == "na":
        return ""
    kind = answer_type(item)
    if kind == "number" and answer.value is not None:
        return f"{_fmt(answer.value)} {item.unit or ''}".strip()
    if kind == "scale" and answer.score is not None:
        low, high = scale_bounds(item)
        return _("%(score)s on %(low)s–%(high)s", score=_fmt(answer.score), low=_fmt(low), high=_fmt(high))
    if kind == "choice" and answer.choice:
        return option_label(item, answer.choice, locale) or ""
    return ""


def answer_rows(items, answers, locale: str) -> list[dict]:
    """One row per item in the template's order: shown (False: a conditional item not asked),
    the answer, its result, its points 0..1 and its text."""
    by_item = {a.item_id: a for a in answers if a.deleted_at is None}
    items = sorted(items, key=lambda i: (i.position, i.code))
    shown = visible_items(items, by_item)
    rows = []
    for item in items:
        answer = by_item.get(item.id)
        rows.append({"item": item, "answer": answer, "shown": item.id in shown,
                     "result": answer_result(item, answer), "points": item_points(item, answer),
                     "text": answer_text(item, answer, locale)})
    return rows
