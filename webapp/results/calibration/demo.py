"""Demo calibration: 李娜 inspected 南京路门店 again, blind, a few days after 张伟, on a sample of six
items; they judged two of them differently. Idempotent."""

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from webapp.checklists.models import TemplateItem
from webapp.demo.keys import demo_id
from webapp.extensions import db
from webapp.results.calibration.models import CalibrationPair
from webapp.visits.models import ChecklistAnswer, Visit

# The second inspector's judgements of the sample; the first visit (v2) failed P1 and R2 and passed P2:
# P1 and P2 disagree (4 of 6 agree). Its score stays above v2's, so it raises no score-drop warning.
SECOND = {"P1": "pass", "P2": "na", "S1": "pass", "E1": "pass", "R2": "fail", "T1": "pass"}


def seed_calibration(today: date) -> Counter:
    added: Counter = Counter()
    first = db.session.get(Visit, demo_id("visit:v2"))
    second_sup = demo_id("user:supervisor2")
    if first is None or db.session.get(CalibrationPair, demo_id("calibration:v2")) is not None:
        return added
    from webapp.auth.models import User

    if db.session.get(User, second_sup) is None:
        return added
    items = {i.code: i for i in db.session.query(TemplateItem).filter(TemplateItem.template_id == first.template_id)}
    day = today - timedelta(days=20)
    done = datetime.combine(day, time(6, 30), tzinfo=UTC)
    second = Visit(id=demo_id("visit:calibration"), site_id=first.site_id, department_id=first.department_id,
                   template_id=first.template_id, supervisor_id=second_sup, status="completed", scheduled_for=day,
                   due_by=day + timedelta(days=2), started_at=done - timedelta(hours=3), completed_at=done,
                   preparation_notes="校准复查：请独立判定抽样检查项。", preparation_done=[])
    db.session.add(second)
    db.session.flush()
    for code, result in SECOND.items():
        if code in items:
            db.session.add(ChecklistAnswer(id=demo_id(f"answer:calibration:{code}"), visit_id=second.id,
                                           item_id=items[code].id, result=result, photos=[]))
    db.session.add(CalibrationPair(id=demo_id("calibration:v2"), first_visit_id=first.id, second_visit_id=second.id,
                                   item_ids=[items[c].id for c in SECOND if c in items], note="季度校准抽查",
                                   created_by=demo_id("user:manager")))
    db.session.flush()
    added["calibration_pairs"] += 1
    return added
