"""The demo history tells the story the results pages need, and its records are consistent."""

from collections import Counter
from datetime import date

import pytest
import time_machine
from sqlalchemy import func, select

from tests.conftest import PINNED_NOW, _empty_all_tables
from webapp import create_app
from webapp.demo.seed import VISITS, demo_id, seed_demo
from webapp.extensions import db
from webapp.findings.models import SEVERITIES, Finding
from webapp.org.models import Department
from webapp.rectification.models import AcceptanceRound, Rectification
from webapp.results.periods import parse_period
from webapp.visits.models import ChecklistAnswer, Visit
from webapp.visits.scoring import score_by_area

TODAY = date(2026, 11, 20)
TZ = "Asia/Shanghai"


def _by_dept(period):
    start, end = period.bounds(TZ)
    rows = db.session.execute(
        select(Department.code, func.count(), func.sum((Finding.severity.in_(("high", "critical"))).cast(db.Integer)),
               func.count(Finding.repeat_of_id))
        .join(Department, Department.id == Finding.department_id)
        .where(Finding.captured_at >= start, Finding.captured_at < end).group_by(Department.code)).all()
    return {code: (n, high, rep) for code, n, high, rep in rows}


@pytest.fixture(scope="module")
def seeded(_schema, tmp_path_factory):
    """The demo seeded once for this module's tests (they only read it; seeding takes seconds)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": _schema, "TESTING": True, "SECRET_KEY": "test-secret",
                      "MEDIA_ROOT": str(tmp_path_factory.mktemp("demo-media"))})
    with time_machine.travel(PINNED_NOW, tick=False), app.app_context():
        first = seed_demo(today=TODAY)
        db.session.commit()
        yield first
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


def test_history_has_a_department_that_got_worse_and_one_that_improved(seeded):
    now, before = _by_dept(parse_period("2026-Q4")), _by_dept(parse_period("2026-Q3"))
    assert now["SH"][0] > 1.3 * before["SH"][0] and now["SH"][1] > 2 * before["SH"][1]
    assert now["SH"][2] > before["SH"][2]
    assert now["OPS"][0] < 0.5 * before["OPS"][0]
    assert 150 <= db.session.scalar(select(func.count()).select_from(Finding)) <= 500
    assert set(db.session.scalars(select(Finding.severity).distinct())) == set(SEVERITIES)
    visits = db.session.scalars(select(Visit).where(Visit.status == "completed")).all()
    assert {v.site_id for v in visits}.__len__() == 8 and len({v.supervisor_id for v in visits}) == 2


def test_statuses_follow_the_rectification_and_rounds(seeded):
    pairs = Counter()
    older = [demo_id(f"finding:{key}:{m}") for key, *_rest, findings in VISITS for m in range(len(findings))]
    for f, r in db.session.execute(select(Finding, Rectification).outerjoin(
            Rectification, Rectification.finding_id == Finding.id).where(Finding.id.not_in(older))).all():
        pairs[(f.status, r.status if r else None)] += 1
        if r is not None:
            rounds = db.session.scalars(select(AcceptanceRound).where(AcceptanceRound.rectification_id == r.id)
                                        .order_by(AcceptanceRound.round)).all()
            assert [x.result for x in rounds if x.result == "fail"].__len__() == r.round - 1
            assert (r.status == "accepted") == (bool(rounds) and rounds[-1].result == "pass")
    allowed = {("open", None), ("rectifying", "rectifying"), ("pending_acceptance", "pending_acceptance"),
               ("closed", "accepted")}
    assert set(pairs) <= allowed
    assert pairs[("closed", "accepted")] > 100 and pairs[("rectifying", "rectifying")] > 0
    # Some pass the first round, some only the second, some are overdue.
    assert db.session.scalar(select(func.count()).select_from(Rectification).where(Rectification.round == 2)) > 5
    assert db.session.scalar(select(func.count()).select_from(Rectification).where(
        Rectification.status == "rectifying", Rectification.deadline < TODAY)) > 3


def test_checklist_scores_change_over_time(seeded):
    scores = {}
    for v in db.session.scalars(select(Visit).where(Visit.status == "completed", Visit.id.in_(
            select(ChecklistAnswer.visit_id)))).all():
        scores.setdefault(v.site_id, []).append(score_by_area(v.template.items, v.answers)["overall"])
    assert len({round(s) for per_site in scores.values() for s in per_site}) > 5


def test_history_is_idempotent(seeded):
    assert seeded["findings"] > 150
    assert seed_demo(today=TODAY) == {}
