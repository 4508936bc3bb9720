from datetime import UTC, date, datetime

import pytest

from webapp.extensions import db
from webapp.models import ChecklistAnswer, Metric, Plan
from webapp.results.models import Evaluation


@pytest.fixture(autouse=True)
def _reads_do_not_lock(app):
    from webapp.core.database import sqlite_reading

    with sqlite_reading():
        yield


@pytest.fixture
def history(world, create_visit, create_finding):
    """Site S1 (department D1): an earlier completed visit and the world's visit v1 completed after it,
    each with figures, answers and findings; a plan of sup1 covering D1."""
    from webapp.extensions import db as _db

    users, (s1, _s2) = world["users"], world["sites"]
    v1 = world["visits"][0]
    old = create_visit(s1, users["sup1"], status="completed")
    old.completed_at = datetime(2026, 9, 10, 6, tzinfo=UTC)
    old.started_at = datetime(2026, 9, 10, 2, tzinfo=UTC)
    v1.status, v1.started_at, v1.completed_at = "completed", datetime(2026, 10, 20, 2, tzinfo=UTC), datetime(
        2026, 10, 20, 6, tzinfo=UTC)
    items = {i.code: i for i in v1.template.items}
    _db.session.add_all([
        Metric(visit_id=old.id, kind="business", name="日均客流", value=800, unit="人次"),
        Metric(visit_id=v1.id, kind="business", name="日均客流", value=860, unit="人次"),
        Metric(visit_id=v1.id, kind="customer", name="客户满意度", value=90, unit="%"),
        ChecklistAnswer(visit_id=old.id, item_id=items["P1"].id, result="fail"),
        ChecklistAnswer(visit_id=old.id, item_id=items["R1"].id, result="pass"),
        ChecklistAnswer(visit_id=v1.id, item_id=items["P1"].id, result="pass"),
        ChecklistAnswer(visit_id=v1.id, item_id=items["R1"].id, result="pass"),
    ])
    # the world's finding f1 belongs to v1; move it into the visit's day
    f1 = world["findings"][0]
    f1.captured_at = datetime(2026, 10, 20, 3, tzinfo=UTC)
    f1.severity = "high"
    _db.session.commit()
    create_finding(old, "旧问题一", severity="high", captured_at=datetime(2026, 9, 10, 3, tzinfo=UTC))
    create_finding(old, "旧问题二", severity="low", captured_at=datetime(2026, 9, 10, 4, tzinfo=UTC))
    plan = Plan(title="四季度计划", period_type="quarterly", period_start=date(2026, 10, 1),
                period_end=date(2026, 12, 31), status="published", author_id=users["sup1"].id)
    plan.departments = [world["depts"][0]]
    db.session.add(plan)
    v1.plan_id = plan.id
    db.session.commit()
    return {**world, "old": old, "plan": plan}


@pytest.fixture
def evaluation(history):
    e = Evaluation(visit_id=history["visits"][0].id, author_id=history["users"]["sup1"].id,
                   lessons="经验", suggestions="建议:增加弹性排班")
    db.session.add(e)
    db.session.commit()
    return e
