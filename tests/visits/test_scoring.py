"""The scoring rules per answer type (webapp/visits/scoring.py), and the phone's mirror of them
(static/js/app/score.js) run with node on the same answers."""

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.visits.score_cases import CASES, RICH_ITEMS, random_case
from webapp.visits.scoring import answer_result, item_points, score_by_area, visible_items

ROOT = Path(__file__).resolve().parents[2]
ITEM = {i["code"]: i for i in RICH_ITEMS}


@pytest.mark.parametrize(("code", "answer", "points", "result"), [
    ("F7", {"result": "pass"}, 1.0, "pass"),
    ("F7", {"result": "fail"}, 0.0, "fail"),
    ("F7", {"result": "na"}, None, "na"),
    ("F7", {"result": None}, None, None),
    ("F3", {"result": "pass", "score": 5}, 1.0, "pass"),
    ("F3", {"result": "pass", "score": 2}, 0.4, "fail"),  # below the midpoint fails
    ("F3", {"result": "pass", "score": 2.5}, 0.5, "pass"),
    ("F3", {"result": "pass", "score": 9}, 1.0, "pass"),  # clamped
    ("F3", {"result": "fail"}, 0.0, "fail"),  # no score sent: the result decides
    ("F4", {"result": "pass", "choice": "o2"}, 0.5, "pass"),
    ("F4", {"result": "pass", "choice": "o3"}, 0.0, "fail"),  # the option marked as a failure
    ("F4", {"result": "na", "choice": "o1"}, None, "na"),
    ("F1", {"result": "pass", "value": 4}, 1.0, "pass"),  # the range includes its ends
    ("F1", {"result": "pass", "value": 4.1}, 0.0, "fail"),
    ("F1", {"result": "fail", "value": 0}, 1.0, "pass"),
    ("F6", {"result": "pass", "score": 7}, 0.7, "pass"),  # a points item is a 0–max scale
])
def test_points_and_result_per_answer_type(code, answer, points, result):
    got = item_points(ITEM[code], answer)
    assert got == pytest.approx(points) if points is not None else got is None
    assert answer_result(ITEM[code], answer) == result


def test_conditional_items_show_only_on_the_given_answer():
    by_item = {"i1": {"result": "pass", "value": 9}, "i4": {"result": "pass", "choice": "o1"}}
    assert visible_items(RICH_ITEMS, by_item) == {"i1", "i2", "i3", "i4", "i6", "i7"}
    by_item = {"i1": {"result": "pass", "value": 2}, "i4": {"result": "fail", "choice": "o3"}}
    assert visible_items(RICH_ITEMS, by_item) == {"i1", "i3", "i4", "i5", "i6", "i7"}


def test_score_by_area_weights_and_leaves_hidden_items_out():
    _, items, answers = CASES[1]
    score = score_by_area(items, answers)
    # process: F1 in range (weight 2), F2 hidden → 100; service: 4 of 0..5 → 80; risk: option o2 → 50
    assert score == {"process": 100.0, "service": 80.0, "efficiency": None, "risk": 50.0, "teamwork": None,
                     "overall": pytest.approx(round(100 * (2 + 1.2 + 0.5) / 4.5, 1))}


def _node_scores(cases):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        "import { scoreByArea, answerResult, visibleItems } from '" + (ROOT / "static/js/app/score.js").as_uri() + "';\n"
        "let input = ''; process.stdin.on('data', (c) => { input += c; });\n"
        "process.stdin.on('end', () => {\n"
        "  const out = JSON.parse(input).map(([items, answers]) => {\n"
        "    const by = new Map(answers.map((a) => [a.item_id, a]));\n"
        "    return { score: scoreByArea(items, by), results: Object.fromEntries(items.map((i) => [i.id, answerResult(i, by.get(i.id))])),\n"
        "      shown: [...visibleItems([...items].sort((a, b) => a.position - b.position), by)].sort() };\n"
        "  });\n"
        "  process.stdout.write(JSON.stringify(out));\n"
        "});\n")
    proc = subprocess.run([node, "--input-type=module", "-e", script], input=json.dumps(cases), capture_output=True,
                          text=True, timeout=60, check=True)
    return json.loads(proc.stdout)


def _python_scores(cases):
    out = []
    for items, answers in cases:
        by = {a["item_id"]: a for a in answers}
        ordered = sorted(items, key=lambda i: i["position"])
        out.append({"score": score_by_area(items, answers),
                    "results": {i["id"]: answer_result(i, by.get(i["id"])) for i in items},
                    "shown": sorted(visible_items(ordered, by))})
    return out


def test_the_phone_scores_exactly_as_the_server():
    rng = random.Random(19)
    cases = [[items, answers] for _, items, answers in CASES] + [list(random_case(rng)) for _ in range(400)]
    py = _python_scores(cases)
    js = _node_scores(cases)
    for n, (p, j) in enumerate(zip(py, js, strict=True)):
        js_score = {**j["score"]["areas"], "overall": j["score"]["overall"]}
        assert p["score"] == js_score, (n, cases[n])
        assert p["results"] == j["results"], (n, cases[n])
        assert p["shown"] == j["shown"], (n, cases[n])
