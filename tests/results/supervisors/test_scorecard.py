"""Every scorecard formula on hand-made records with known answers (no database)."""

from datetime import UTC, date, datetime
from types import SimpleNamespace as NS

import pytest

from webapp.results.periods import parse_period
from webapp.results.supervisors.scorecard import (
    WEIGHTS,
    Ratio,
    compute_scorecard,
    overall_score,
    rank,
    trend,
    trends,
)

TZ = "Asia/Shanghai"
Q4 = parse_period("2026-Q4")
TODAY = date(2026, 11, 25)


def visit(day, status="completed", plan_id="plan", completed_at=None, deleted_at=None):
    return NS(plan_id=plan_id, scheduled_for=day, due_by=None, status=status, deleted_at=deleted_at,
              completed_at=completed_at)


def finding(at, status="open", repeat_of_id=None, deleted_at=None):
    return NS(captured_at=at, status=status, repeat_of_id=repeat_of_id, deleted_at=deleted_at)


def rect(status="accepted", round=1, accepted_at=datetime(2026, 11, 1, 2, tzinfo=UTC)):
    return NS(status=status, round=round, accepted_at=accepted_at)


def rating(score, completed_at, note=None, status="completed"):
    return NS(score=score, teamwork_note=note,
              visit=NS(status=status, completed_at=completed_at, deleted_at=None))


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def records():
    return {
        "visits": [
            visit(date(2026, 10, 1)), visit(date(2026, 12, 31)),  # first and last day: in
            visit(date(2026, 11, 20), status="scheduled"),  # planned, not done (overdue)
            visit(date(2026, 9, 30)), visit(date(2027, 1, 1)),  # outside the quarter
            visit(date(2026, 11, 2), plan_id=None),  # ad hoc: not planned
            visit(date(2026, 11, 3), deleted_at=utc(2026, 11, 4)),  # deleted
        ],
        "findings": [
            finding(utc(2026, 9, 30, 16, 30), status="closed"),  # 00:30 on 1 Oct in Shanghai: in Q4
            finding(utc(2026, 9, 30, 15, 59)),  # 23:59 on 30 Sep in Shanghai: Q3
            finding(utc(2026, 11, 10), status="closed", repeat_of_id="earlier"),
            finding(utc(2026, 11, 11)),
            finding(utc(2026, 12, 31, 15, 59), repeat_of_id="earlier"),  # 23:59 on 31 Dec: in
            finding(utc(2026, 12, 31, 16, 0), status="closed"),  # midnight on 1 Jan 2027: Q1
            finding(utc(2026, 11, 12), deleted_at=utc(2026, 11, 13)),
        ],
        "rectifications": [
            rect(round=1), rect(round=1), rect(round=2),
            rect(status="rectifying", accepted_at=None),
            rect(round=1, accepted_at=utc(2026, 9, 30, 15, 0)),  # 23:00 on 30 Sep local: Q3
        ],
        "ratings": [
            rating(5, utc(2026, 10, 10), "沟通顺畅"), rating(4, utc(2026, 11, 10), "  "), rating(2, utc(2026, 12, 1)),
            rating(1, utc(2026, 9, 30, 15, 0)),  # visit completed in Q3 (local)
            rating(1, utc(2026, 11, 1), status="in_progress"),  # reopened visit: not counted
        ],
    }


def test_every_figure_has_its_known_value(records):
    card = compute_scorecard(Q4, TZ, today=TODAY, **records)
    assert (card.completion.numerator, card.completion.denominator) == (2, 3)
    assert card.progress.overdue == 1
    assert len(card.found) == 4
    assert len(card.resolved) == 2
    assert card.resolution.value == pytest.approx(0.5)
    assert (card.first_round_rate.numerator, card.first_round_rate.denominator) == (2, 3)
    assert card.recurrence.value == pytest.approx(2 / 4)
    assert card.satisfaction == pytest.approx((5 + 4 + 2) / 3)
    assert [r.teamwork_note for r in card.teamwork_notes] == ["沟通顺畅"]


def test_overall_score_with_every_component(records):
    card = compute_scorecard(Q4, TZ, today=TODAY, **records)
    score, used = card.overall()
    expected = 100 * (0.30 * 2 / 3 + 0.20 * 0.5 + 0.20 * 2 / 3 + 0.15 * (1 - 0.5) + 0.15 * (11 / 3) / 5)
    assert score == pytest.approx(expected)
    assert used == pytest.approx(WEIGHTS)


def test_missing_components_are_left_out_and_weights_renormalised():
    score, used = overall_score({"completion": 0.5, "resolution": None, "first_round": None,
                                 "recurrence": None, "satisfaction": 1.0})
    assert used == pytest.approx({"completion": 2 / 3, "satisfaction": 1 / 3})
    assert score == pytest.approx(100 * (0.5 * 2 / 3 + 1.0 / 3))
    assert sum(used.values()) == pytest.approx(1)


def test_no_data_gives_no_figures_and_no_score():
    card = compute_scorecard(Q4, TZ, today=TODAY)
    assert card.completion.value is None
    assert card.resolution.value is None
    assert card.first_round_rate.value is None
    assert card.recurrence.value is None
    assert card.satisfaction is None
    assert card.overall() == (None, {})
    assert card.figures()["found"] == 0


def test_recurrence_enters_the_score_as_one_minus_the_rate():
    card = compute_scorecard(Q4, TZ, today=TODAY, findings=[
        finding(utc(2026, 11, 1), repeat_of_id="x"), finding(utc(2026, 11, 2)),
        finding(utc(2026, 11, 3)), finding(utc(2026, 11, 4))])
    # Only resolution (0/4 = 0) and recurrence (1 − 1/4) have data: weights 0.20 and 0.15.
    score, used = card.overall()
    assert used == pytest.approx({"resolution": 0.20 / 0.35, "recurrence": 0.15 / 0.35})
    assert score == pytest.approx(100 * 0.75 * 0.15 / 0.35)


def test_ratio_without_denominator_is_none():
    assert Ratio(0, 0).value is None
    assert Ratio(0, 4).value == 0


def test_month_period_boundaries_in_local_time():
    nov = parse_period("2026-11")
    card = compute_scorecard(nov, TZ, today=TODAY, findings=[
        finding(utc(2026, 10, 31, 16, 0)),  # 00:00 on 1 Nov local
        finding(utc(2026, 11, 30, 15, 59)),  # 23:59 on 30 Nov local
        finding(utc(2026, 11, 30, 16, 0)),  # 00:00 on 1 Dec local
    ])
    assert len(card.found) == 2


@pytest.mark.parametrize("current, previous, direction, arrow, sense", [
    (0.8, 0.6, 1, "↑", "better"),
    (0.6, 0.8, 1, "↓", "worse"),
    (0.3, 0.1, -1, "↑", "worse"),  # more recurrence is worse
    (0.1, 0.3, -1, "↓", "better"),
    (5, 3, 0, "↑", "neutral"),  # more problems found is neither
    (0.5, 0.5, 1, "→", "same"),
])
def test_trend_arrows(current, previous, direction, arrow, sense):
    t = trend(current, previous, direction)
    assert (t["arrow"], t["sense"]) == (arrow, sense)


def test_no_trend_without_both_values():
    assert trend(None, 0.5, 1) is None
    assert trend(0.5, None, 1) is None


def test_trends_compare_with_the_previous_period(records):
    card = compute_scorecard(Q4, TZ, today=TODAY, **records)
    before = compute_scorecard(Q4.previous(), TZ, today=TODAY, **records)
    t = trends(card, before)
    assert before.completion.value == pytest.approx(1.0)  # the 30 Sep visit, completed
    assert t["completion"]["sense"] == "worse"
    assert t["satisfaction"]["sense"] == "better"  # 3.67 against 1.0


def test_ranking_puts_best_first_and_no_score_last(records):
    good = compute_scorecard(Q4, TZ, today=TODAY, **records)
    perfect = compute_scorecard(Q4, TZ, today=TODAY, visits=[visit(date(2026, 10, 5))])
    empty = compute_scorecard(Q4, TZ, today=TODAY)
    assert [k for k, _ in rank({"a": empty, "b": good, "c": perfect})] == ["c", "b", "a"]
