"""The desk's visit page lists the checklist answers in each item's own terms."""

from webapp.checklists.models import ChecklistTemplate, TemplateItem
from webapp.extensions import db
from webapp.visits.models import ChecklistAnswer

EN = {"Accept-Language": "en"}


def test_the_visit_page_shows_typed_answers_and_conditions(client, auth, world):
    tpl = ChecklistTemplate(code="FOOD", revision=1, name="食品安全")
    db.session.add(tpl)
    db.session.flush()
    f1 = TemplateItem(template_id=tpl.id, area="risk", code="F1", title="冷藏温度", answer_type="number", range_min=0,
                      range_max=4, unit="°C", position=0)
    f2 = TemplateItem(template_id=tpl.id, area="risk", code="F2", title="隔离超温食品", position=1,
                      condition={"item": "F1", "answer": "fail"})
    f3 = TemplateItem(template_id=tpl.id, area="process", code="F3", title="后厨清洁", answer_type="scale",
                      scale_min=0, scale_max=5, position=2)
    f4 = TemplateItem(template_id=tpl.id, area="risk", code="F4", title="标签", answer_type="choice", position=3,
                      options=[{"key": "o1", "label": "完好", "label_en": "Intact", "score": 100, "fail": False},
                               {"key": "o2", "label": "过期", "label_en": "Expired", "score": 0, "fail": True}])
    db.session.add_all([f1, f2, f3, f4])
    visit = world["visits"][0]
    visit.template_id = tpl.id
    db.session.flush()
    db.session.add_all([
        ChecklistAnswer(visit_id=visit.id, item_id=f1.id, result="pass", value=3.2, photos=[]),
        ChecklistAnswer(visit_id=visit.id, item_id=f3.id, result="fail", score=2, note="水池积水", photos=[]),
        ChecklistAnswer(visit_id=visit.id, item_id=f4.id, result="fail", choice="o2", photos=[]),
    ])
    db.session.commit()
    auth.login("manager")
    page = client.get(f"/visits/{visit.id}", headers=EN).get_data(as_text=True)
    assert "Checklist answers" in page and "3 of 3 items answered." in page
    assert "3.2 °C" in page and "Passes at 0–4 °C" in page
    assert "2 on 0–5" in page and "水池积水" in page
    assert "Expired" in page
    assert "Not asked (its condition was not met)" in page  # F1 passed, so F2 was not asked
    zh = client.get(f"/visits/{visit.id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "检查表答题情况" in zh and "过期" in zh and "未显示（显示条件未满足）" in zh
    auth.logout()
    auth.login("head2")  # another department's head: the same denial as for any visit
    assert client.get(f"/visits/{visit.id}").status_code == 404
