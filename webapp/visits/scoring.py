"""Checklist score by content area: the weighted share of points earned among the items answered.

THE scoring rules, by answer type (docs/checklists.md); static/js/app/score.js mirrors them line by
line and tests/visits/test_score_parity.py runs both on the same answers:

- pass/fail/n.a.: pass earns the item's weight, fail nothing, n.a. leaves the item out;
- scale: (score − lowest) / (highest − lowest) of the weight; below the midpoint counts as failed;
- choice: the option's share (0–100 %) of the weight; an option marked as a failure counts as failed;
- number: in range earns the weight and passes, out of range earns nothing and fails;
- a conditional item that is not shown (its earlier item does not have the given answer) is left out;
- an answer without its typed value (an older phone sent only pass/fail) is scored by its result.

Items and answers may be model rows or plain dicts (the wire format)."""

import math

from webapp.checklists.models import AREAS

RESULT_CODES = ("pass", "fail", "na")


def _get(obj, name, default=None):
    value = obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)
    return default if value is None else value


def _num(value) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def answer_type(item) -> str:
    kind = _get(item, "answer_type")
    if kind and kind != "pass_fail":
        return kind
    return "scale" if _get(item, "scoring") == "points" else "pass_fail"


def scale_bounds(item) -> tuple[float, float]:
    low = _num(_get(item, "scale_min"))
    high = _num(_get(item, "scale_max"))
    return (0.0 if low is None else low, (_num(_get(item, "max_points")) or 10.0) if high is None else high)


def _option(item, key):
    for opt in _get(item, "options", []) or []:
        if opt.get("key") == key:
            return opt
    return None


def _clamp(x: float) -> float:
    return max(0.0, min(1.0, x))


def _typed(item, answer) -> tuple[float, str] | None:
    """(ratio 0..1, result) from the answer's typed value, or None when it has none."""
    kind = answer_type(item)
    if kind == "scale":
        score = _num(_get(answer, "score"))
        if score is None:
            return None
        low, high = scale_bounds(item)
        ratio = _clamp((score - low) / (high - low)) if high > low else 0.0
        return ratio, "pass" if ratio >= 0.5 else "fail"
    if kind == "choice":
        opt = _option(item, _get(answer, "choice"))
        if opt is None:
            return None
        return _clamp((_num(opt.get("score")) or 0.0) / 100), "fail" if opt.get("fail") else "pass"
    if kind == "number":
        value = _num(_get(answer, "value"))
        if value is None:
            return None
        low, high = _num(_get(item, "range_min")), _num(_get(item, "range_max"))
        inside = (low is None or value >= low) and (high is None or value <= high)
        return (1.0, "pass") if inside else (0.0, "fail")
    return None


def answer_result(item, answer) -> str | None:
    """pass, fail, na or None (unanswered), from the typed value where there is one."""
    if answer is None:
        return None
    result = _get(answer, "result")
    if result == "na":
        return "na"
    typed = _typed(item, answer)
    if typed is not None:
        return typed[1]
    return result if result in RESULT_CODES else None


def item_points(item, answer) -> float | None:
    """Points earned for one answered item as a fraction 0..1; None when not applicable/unanswered."""
    if answer is None:
        return None
    result = _get(answer, "result")
    if result == "na":
        return None
    typed = _typed(item, answer)
    if typed is not None:
        return typed[0]
    if result == "pass":
        return 1.0
    if result == "fail":
        return 0.0
    return None


def visible_items(items, by_item: dict) -> set:
    """The ids of the items shown: an item with a condition shows when its earlier item is shown and
    has the given answer (a result code, or a choice item's option key)."""
    by_code, shown = {}, set()
    for item in items:
        cond = _get(item, "condition")
        ok = True
        if cond:
            parent = by_code.get(cond.get("item"))
            if parent is None or _get(parent, "id") not in shown:
                ok = False
            else:
                answer = by_item.get(_get(parent, "id"))
                want = cond.get("answer")
                if want in RESULT_CODES:
                    ok = answer_result(parent, answer) == want
                else:
                    ok = answer is not None and _get(answer, "result") != "na" and _get(answer, "choice") == want
        if ok:
            shown.add(_get(item, "id"))
        by_code[_get(item, "code")] = item
    return shown


def _pct(got: float, weight: float) -> float | None:
    # Half away from zero at one decimal, as Math.round does for these non-negative numbers.
    return math.floor(1000 * got / weight + 0.5) / 10 if weight else None


def score_by_area(items, answers) -> dict:
    """{area: percent 0..100 or None} plus "overall", weighted by item weight. `answers` are model
    rows (deleted ones skipped) or plain dicts with an item_id."""
    by_item = {_get(a, "item_id"): a for a in answers if _get(a, "deleted_at") is None}
    items = sorted(items, key=lambda i: (_get(i, "position", 0), _get(i, "code", "")))
    shown = visible_items(items, by_item)
    totals = {area: [0.0, 0.0] for area in AREAS}
    for item in items:
        if _get(item, "id") not in shown:
            continue
        frac = item_points(item, by_item.get(_get(item, "id")))
        area = _get(item, "area")
        if frac is None or area not in totals:
            continue
        weight = _num(_get(item, "weight"))
        weight = 1.0 if weight is None else weight
        totals[area][0] += frac * weight
        totals[area][1] += weight
    result = {area: _pct(got, weight) for area, (got, weight) in totals.items()}
    got = weight = 0.0
    for area in AREAS:
        got += totals[area][0]
        weight += totals[area][1]
    result["overall"] = _pct(got, weight)
    return result
