"""Checklist score by content area: weighted share of points earned among the items answered."""

from webapp.checklists.models import AREAS


def item_points(item, answer) -> float | None:
    """Points earned for one answered item as a fraction 0..1; None when not applicable/unanswered."""
    if answer is None or answer.result in (None, "na"):
        return None
    if item.scoring == "points" and answer.score is not None and item.max_points:
        return max(0.0, min(1.0, answer.score / item.max_points))
    return 1.0 if answer.result == "pass" else 0.0


def score_by_area(items, answers) -> dict:
    """{area: percent 0..100 or None} plus "overall", weighted by item weight."""
    by_item = {a.item_id: a for a in answers if a.deleted_at is None}
    totals = {area: [0.0, 0.0] for area in AREAS}
    for item in items:
        frac = item_points(item, by_item.get(item.id))
        if frac is None or item.area not in totals:
            continue
        totals[item.area][0] += frac * item.weight
        totals[item.area][1] += item.weight
    result = {area: (round(100 * got / weight, 1) if weight else None) for area, (got, weight) in totals.items()}
    got = sum(t[0] for t in totals.values())
    weight = sum(t[1] for t in totals.values())
    result["overall"] = round(100 * got / weight, 1) if weight else None
    return result
