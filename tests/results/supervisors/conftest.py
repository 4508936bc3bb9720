from datetime import UTC, date, datetime

import pytest

from webapp.extensions import db
from webapp.plans.models import Plan
from webapp.results.models import SupervisorProfile, VisitRating


@pytest.fixture
def plan(world):
    p = Plan(title="季度计划", period_type="quarterly", period_start=date(2026, 10, 1),
             period_end=date(2026, 12, 31), status="published", author_id=world["users"]["sup1"].id)
    db.session.add(p)
    db.session.commit()
    return p


@pytest.fixture
def sup_world(world, plan):
    """world + v1 (sup1, D1) completed in Q4 2026 from the plan, a profile for sup1, sup2 without one."""
    v1, v2 = world["visits"]
    for v in (v1, v2):
        v.plan_id = plan.id
        v.scheduled_for = date(2026, 11, 10)
        v.status = "completed"
        v.completed_at = datetime(2026, 11, 10, 6, tzinfo=UTC)
    f1, f2 = world["findings"]
    f1.captured_at = f2.captured_at = datetime(2026, 11, 10, 3, tzinfo=UTC)
    db.session.add(SupervisorProfile(user_id=world["users"]["sup1"].id, selection_source="internal",
                                     experience_years=8, qualifications="注册内部审计师",
                                     training_records=[{"date": "2026-03-01", "topic": "风险评估", "hours": 8}],
                                     recognitions=[{"date": "2025-12-20", "title": "年度优秀督导员"}]))
    db.session.commit()
    return world


@pytest.fixture
def add_rating():
    def make(visit, rater, score, note=None):
        r = VisitRating(visit_id=visit.id, rated_by=rater.id, score=score, teamwork_note=note)
        db.session.add(r)
        db.session.commit()
        return r

    return make
