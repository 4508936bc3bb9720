"""Answer sets for the scoring tests: hand-written cases per answer type, and random ones."""

import random

AREAS = ("process", "service", "efficiency", "risk", "teamwork")

RICH_ITEMS = [
    {"id": "i1", "code": "F1", "area": "process", "position": 0, "weight": 2.0, "answer_type": "number",
     "range_min": 0, "range_max": 4, "unit": "°C"},
    {"id": "i2", "code": "F2", "area": "process", "position": 1, "weight": 1.0, "answer_type": "pass_fail",
     "condition": {"item": "F1", "answer": "fail"}},
    {"id": "i3", "code": "F3", "area": "service", "position": 2, "weight": 1.5, "answer_type": "scale",
     "scale_min": 0, "scale_max": 5},
    {"id": "i4", "code": "F4", "area": "risk", "position": 3, "weight": 1.0, "answer_type": "choice",
     "options": [{"key": "o1", "label": "完好", "score": 100, "fail": False},
                 {"key": "o2", "label": "轻微", "score": 50, "fail": False},
                 {"key": "o3", "label": "缺失", "score": 0, "fail": True}]},
    {"id": "i5", "code": "F5", "area": "risk", "position": 4, "weight": 1.0, "answer_type": "pass_fail",
     "condition": {"item": "F4", "answer": "o3"}},
    {"id": "i6", "code": "F6", "area": "teamwork", "position": 5, "weight": 1.0, "scoring": "points",
     "max_points": 10},
    {"id": "i7", "code": "F7", "area": "efficiency", "position": 6, "weight": 0.5, "answer_type": "pass_fail"},
]

CASES = [
    ("empty", RICH_ITEMS, []),
    ("in range, condition hidden", RICH_ITEMS, [
        {"item_id": "i1", "result": "pass", "value": 3.5},
        {"item_id": "i2", "result": "fail"},  # hidden: F1 passed, so this answer does not count
        {"item_id": "i3", "result": "pass", "score": 4},
        {"item_id": "i4", "result": "pass", "choice": "o2"}]),
    ("out of range shows the follow-up", RICH_ITEMS, [
        {"item_id": "i1", "result": "pass", "value": 7},  # the typed value wins over the result sent
        {"item_id": "i2", "result": "pass"},
        {"item_id": "i3", "result": "fail", "score": 1},
        {"item_id": "i4", "result": "fail", "choice": "o3"},
        {"item_id": "i5", "result": "fail"},
        {"item_id": "i6", "result": "pass", "score": 7},
        {"item_id": "i7", "result": "na"}]),
    ("old phone: pass/fail only", RICH_ITEMS, [
        {"item_id": "i1", "result": "fail"}, {"item_id": "i2", "result": "pass"},
        {"item_id": "i3", "result": "pass"}, {"item_id": "i4", "result": "fail"},
        {"item_id": "i6", "result": "pass", "score": 10}, {"item_id": "i7", "result": "pass"}]),
    ("n.a. everywhere", RICH_ITEMS, [{"item_id": f"i{n}", "result": "na"} for n in range(1, 8)]),
    ("rounding", [{"id": f"r{n}", "code": f"R{n}", "area": "process", "position": n, "weight": 1.0}
                  for n in range(3)] + [{"id": "s", "code": "S", "area": "service", "position": 9, "weight": 1.0,
                                         "answer_type": "scale", "scale_min": 1, "scale_max": 8}],
     [{"item_id": "r0", "result": "pass"}, {"item_id": "r1", "result": "pass"}, {"item_id": "r2", "result": "fail"},
      {"item_id": "s", "result": "pass", "score": 4.5}]),
]


def random_case(rng: random.Random):
    items = []
    for n in range(rng.randint(1, 9)):
        kind = rng.choice(("pass_fail", "scale", "choice", "number", "points"))
        item = {"id": f"x{n}", "code": f"C{n}", "area": rng.choice(AREAS + ("other",)), "position": n,
                "weight": rng.choice((0.5, 1.0, 1.5, 2.0, 3.3))}
        if kind == "points":
            item.update(scoring="points", max_points=rng.choice((5, 10, 7.5)))
        else:
            item["answer_type"] = kind
        if kind == "scale":
            low = rng.choice((0, 1, -2))
            item.update(scale_min=low, scale_max=low + rng.choice((3, 5, 10)))
        if kind == "choice":
            item["options"] = [{"key": f"o{k}", "label": f"L{k}", "score": rng.choice((0, 25, 50, 100, 33.3)),
                                "fail": rng.random() < 0.3} for k in range(1, rng.randint(2, 5))]
        if kind == "number":
            item.update(range_min=rng.choice((None, 0, 2.5)), range_max=rng.choice((None, 5, 8)))
        if items and rng.random() < 0.4:
            parent = rng.choice(items)
            wants = ["pass", "fail", "na"] + [o["key"] for o in parent.get("options", [])]
            item["condition"] = {"item": parent["code"], "answer": rng.choice(wants)}
        items.append(item)
    answers = []
    for item in items:
        if rng.random() < 0.2:
            continue
        ans = {"item_id": item["id"], "result": rng.choice(("pass", "fail", "na", None))}
        if rng.random() < 0.7:
            ans["score"] = rng.choice((0, 1, 2.5, 3, 5, 9, 11))
            ans["choice"] = rng.choice(("o1", "o2", "o3", "zz"))
            ans["value"] = rng.choice((-1, 0, 2.5, 4, 6.1, 9))
        answers.append(ans)
    rng.shuffle(items)  # both sides put items in position order
    return items, answers
