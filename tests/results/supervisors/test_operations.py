"""The scorecard's queries on a real database: the right records for the supervisor and period,
with the period's boundaries in local time (Asia/Shanghai)."""

from datetime import UTC, date, datetime

import pytest

from webapp.extensions import db
from webapp.rectification.models import Rectification
from webapp.results.models import VisitRating
from webapp.results.periods import parse_period
from webapp.results.supervisors import operations as ops
from webapp.visits.models import Visit

Q4 = parse_period("2026-Q4")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def data(sup_world, plan, create_finding):
    w = sup_world
    sup1, head1 = w["users"]["sup1"], w["users"]["head1"]
    s1 = w["sites"][0]
    v1 = w["visits"][0]

    def visit(day, status, plan_id=plan.id, completed_at=None):
        v = Visit(site_id=s1.id, department_id=s1.department_id, template_id=v1.template_id, plan_id=plan_id,
                  supervisor_id=sup1.id, status=status, scheduled_for=day, completed_at=completed_at)
        db.session.add(v)
        return v

    visit(date(2026, 12, 31), "scheduled")  # planned, open
    visit(date(2026, 9, 30), "completed", completed_at=utc(2026, 9, 30, 8))  # Q3
    visit(date(2026, 11, 1), "completed", plan_id=None, completed_at=utc(2026, 11, 1, 8))  # ad hoc
    late = visit(date(2026, 12, 31), "completed", completed_at=utc(2026, 12, 31, 15, 30))  # 23:30 local
    db.session.commit()
    f_in = create_finding(v1, "十月一日零点半", captured_at=utc(2026, 9, 30, 16, 30), status="closed")
    create_finding(v1, "九月三十日深夜", captured_at=utc(2026, 9, 30, 15, 59))
    rep = create_finding(v1, "重复问题", captured_at=utc(2026, 11, 11), repeat_of_id=f_in.id)
    for f, rnd, at in ((f_in, 1, utc(2026, 11, 20)), (rep, 2, utc(2026, 11, 21))):
        db.session.add(Rectification(finding_id=f.id, measures="整改", owner="吴敏", deadline=date(2026, 12, 1),
                                     status="accepted", round=rnd, submitted_by=head1.id, accepted_at=at))
    db.session.add(VisitRating(visit_id=v1.id, rated_by=head1.id, score=5, teamwork_note="配合好"))
    db.session.add(VisitRating(visit_id=late.id, rated_by=head1.id, score=2))
    db.session.commit()
    return w


def test_scorecard_from_the_database(data):
    manager, sup1 = data["users"]["manager"], data["users"]["sup1"]
    card = ops.scorecard_for(manager, sup1.id, Q4, today=date(2026, 11, 25))
    # Planned in Q4: v1 (completed, 10 Nov), the 31 Dec scheduled one and the late completed one.
    assert (card.completion.numerator, card.completion.denominator) == (2, 3)
    # world's finding of v1 (10 Nov) + 00:30 on 1 Oct local + the repeat; not 23:59 on 30 Sep.
    assert len(card.found) == 3 and len(card.resolved) == 1
    assert (card.recurrence.numerator, card.recurrence.denominator) == (1, 3)
    assert (card.first_round_rate.numerator, card.first_round_rate.denominator) == (1, 2)
    assert card.satisfaction == pytest.approx(3.5) and len(card.ratings) == 2
    assert [r.teamwork_note for r in card.teamwork_notes] == ["配合好"]


def test_supervisor_sees_own_scorecard_the_same_as_a_manager(data):
    sup1, manager = data["users"]["sup1"], data["users"]["manager"]
    mine = ops.scorecard_for(sup1, sup1.id, Q4, today=date(2026, 11, 25))
    theirs = ops.scorecard_for(manager, sup1.id, Q4, today=date(2026, 11, 25))
    assert mine.figures() == theirs.figures()


def test_other_supervisor_has_no_data_of_sup1(data):
    card = ops.scorecard_for(data["users"]["manager"], data["users"]["sup2"].id, Q4, today=date(2026, 11, 25))
    assert len(card.found) == 1 and card.satisfaction is None and card.first_round_rate.value is None


def test_supervisors_lists_role_and_profiles(data):
    names = [u.username for u in ops.supervisors()]
    assert names == ["sup1", "sup2"]


@pytest.mark.parametrize("period", [Q4, Q4.previous(), parse_period("2026-11"), parse_period("2026")])
def test_the_rankings_scorecards_are_each_supervisors_own(data, period):
    """The ranking computes every supervisor's scorecard from one query per kind of record (plain
    rows for findings and rectifications): each equals that supervisor's own, figure by figure."""
    manager, sup1, sup2 = data["users"]["manager"], data["users"]["sup1"], data["users"]["sup2"]
    cards = ops.scorecards_for(manager, [sup1.id, sup2.id], period, today=date(2026, 11, 25))
    for sid in (sup1.id, sup2.id):
        own = ops.scorecard_for(manager, sid, period, today=date(2026, 11, 25))
        assert cards[sid].figures() == own.figures()
        assert (cards[sid].completion, cards[sid].resolution, cards[sid].first_round_rate, cards[sid].recurrence) == \
            (own.completion, own.resolution, own.first_round_rate, own.recurrence)
        assert len(cards[sid].ratings) == len(own.ratings) and cards[sid].agreement == own.agreement
    assert any(c.figures()["found"] for c in cards.values()) or period != Q4  # Q4 has records to compare
    assert ops.scorecards_for(manager, [], period) == {}
