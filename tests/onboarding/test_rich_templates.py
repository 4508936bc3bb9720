"""Excel onboarding of rich checklist templates: answer type, criteria, options, scale and range."""

import pytest
from sqlalchemy import select

from tests.onboarding.helpers import preview_id, rows_of, upload, workbook
from webapp.checklists.models import ChecklistTemplate
from webapp.extensions import db

ROWS = [
    {"template_code": "food", "template_name": "食品安全", "item_code": "F1", "area": "风险管理", "title": "冷藏温度",
     "answer_type": "实测数值", "range_min": 0, "range_max": 4, "unit": "°C", "criteria": "0–4 °C",
     "guidance": "探针测中层"},
    {"template_code": "FOOD", "template_name": "食品安全", "item_code": "F2", "area": "process", "title": "清洁",
     "answer_type": "Score on a scale", "scale_min": 0, "scale_max": 5},
    {"template_code": "FOOD", "template_name": "食品安全", "item_code": "F3", "area": "risk", "title": "标签",
     "answer_type": "choice", "options": "完好 | Intact | 100\n过期 | 0 | fail"},
]


@pytest.fixture
def admin(create_user, auth):
    user = create_user("admin1", role="admin", locale="en")
    auth.login("admin1")
    return user


def _confirm(client, auth, pid):
    return client.post(f"/admin/import/{pid}/confirm", data={"csrf_token": auth.csrf()})


def test_rich_columns_import_and_reimport_unchanged(client, auth, admin):
    pid = preview_id(upload(client, auth, workbook(templates=ROWS)))
    assert _confirm(client, auth, pid).status_code in (200, 302, 303)
    db.session.rollback()
    tpl = db.session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == "FOOD"))
    f1, f2, f3 = tpl.items
    assert (f1.answer_type, f1.range_min, f1.range_max, f1.unit, f1.criteria) == ("number", 0, 4, "°C", "0–4 °C")
    assert (f2.answer_type, f2.scale_min, f2.scale_max) == ("scale", 0, 5)
    assert [(o["label"], o["score"], o["fail"]) for o in f3.options] == [("完好", 100, False), ("过期", 0, True)]
    # the same file again changes nothing
    html = client.get(f"/admin/import/{preview_id(upload(client, auth, workbook(templates=ROWS)))}").get_data(
        as_text=True)
    assert {s for s, _n in rows_of(html, "templates")} == {"unchanged"}


@pytest.mark.parametrize(("over", "message"), [
    ({"range_min": 9}, "The highest value must be above the lowest."),
    ({"answer_type": "choice", "options": "只有一个 | 100"}, "A multiple choice needs at least two options."),
    ({"answer_type": "choice", "options": "好 | 100\n| 0"}, "Option 2 has no text."),
    ({"answer_type": "essay"}, None),
])
def test_bad_rich_cells_are_row_errors(client, auth, admin, over, message):
    rows = [dict(ROWS[0], **over)] + ROWS[1:]
    html = client.get(f"/admin/import/{preview_id(upload(client, auth, workbook(templates=rows)))}").get_data(
        as_text=True)
    assert ("error", "2") in rows_of(html, "templates")
    if message:
        assert message in html
