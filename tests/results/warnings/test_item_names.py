"""Warnings name checklist items by their title, not their code (issue #19 item 5)."""

from flask_babel import force_locale

from webapp.results.warnings.operations import render_warning


def _params(problem):
    return {"site": "徐汇门店", "site_en": "Xuhui store", "threshold": 3, "count": 4, "window": 90, "problem": problem}


def test_repeat_problem_names_items_not_codes(app):
    params = _params({"item_id": "i1", "code": "R3", "title": "消防通道畅通", "title_en": "Fire exits clear"})
    with app.test_request_context(), force_locale("en"):
        en = render_warning("repeat_problem", params, "en")
    with app.test_request_context(), force_locale("zh_CN"):
        zh = render_warning("repeat_problem", params, "zh_CN")
    assert "Fire exits clear" in en and "R3" not in en and "Xuhui store" in en
    assert "消防通道畅通" in zh and "R3" not in zh and "徐汇门店" in zh
    with app.test_request_context(), force_locale("en"):
        untitled = render_warning("repeat_problem", _params({"item_id": "i2", "code": "E2", "title": ""}), "en")
    assert "E2" in untitled  # an item without a title keeps its code: better than nothing
