"""Gathering the comparison from the database, and saving an evaluation."""

from datetime import UTC, date, datetime

import pytest

from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.results.evaluation import operations as ops

TZ = "Asia/Shanghai"


def test_visit_comparison_with_the_previous_visit(history):
    v1, old = history["visits"][0], history["old"]
    c = ops.visit_comparison(history["users"]["manager"], v1, TZ)
    assert c["previous"].id == old.id
    count = c["findings"][0]
    assert (count["before"], count["after"], count["change"]) == (2, 1, -1)
    high = next(r for r in c["findings"] if r["severity"] == "high")
    assert (high["before"], high["after"]) == (1, 1)
    scores = {r["area"]: r for r in c["scores"]}
    assert (scores["process"]["before"], scores["process"]["after"]) == (0.0, 100.0)
    assert (scores["overall"]["before"], scores["overall"]["after"], scores["overall"]["change"]) == (50.0, 100.0, 50.0)
    metrics = {r["name"]: r for r in c["metrics"]}
    assert metrics["日均客流"]["change"] == 60 and metrics["客户满意度"]["before"] is None
    assert c["window_after"] == (date(2026, 10, 20), date(2026, 10, 20))
    assert c["window_before"] == (date(2026, 9, 10), date(2026, 9, 10))


def test_the_first_visit_has_nothing_to_compare_with(history):
    c = ops.visit_comparison(history["users"]["manager"], history["old"], TZ)
    assert c["previous"] is None and c["window_before"] is None
    assert all(r["before"] is None for r in c["findings"] + c["scores"] + c["metrics"])


def test_a_supervisor_compares_only_with_visits_they_can_see(history, create_visit):
    other = create_visit(history["sites"][0], history["users"]["sup2"], status="completed")
    other.completed_at = datetime(2026, 10, 1, tzinfo=UTC)
    db.session.commit()
    v1 = history["visits"][0]
    assert ops.visit_comparison(history["users"]["manager"], v1, TZ)["previous"].id == other.id
    assert ops.visit_comparison(history["users"]["sup1"], v1, TZ)["previous"].id == history["old"].id


def test_plan_comparison_period_against_the_previous_quarter(history):
    c = ops.plan_comparison(history["users"]["manager"], history["plan"], TZ)
    assert (c["window_before"], c["window_after"]) == ((date(2026, 7, 1), date(2026, 9, 30)),
                                                      (date(2026, 10, 1), date(2026, 12, 31)))
    [row] = c["sites"]  # the plan visits S1 only
    assert row["site"].id == history["sites"][0].id
    assert (row["before"]["findings"]["count"], row["after"]["findings"]["count"], row["count_change"]) == (2, 1, -1)
    assert (row["before"]["visits"], row["after"]["visits"]) == (1, 1)
    assert (row["before"]["scores"]["overall"], row["after"]["scores"]["overall"], row["score_change"]) == (50.0, 100.0, 50.0)
    assert c["findings"][0]["before"] == 2 and c["metrics"][0]["change"] == 60


def test_plan_without_sites_or_visits_uses_its_departments_sites(history):
    from webapp.plans.models import Plan

    plan = Plan(title="空计划", period_type="monthly", period_start=date(2026, 10, 1), period_end=date(2026, 10, 31),
                status="published", author_id=history["users"]["sup1"].id)
    plan.departments = [history["depts"][1]]
    db.session.add(plan)
    db.session.commit()
    c = ops.plan_comparison(history["users"]["manager"], plan, TZ)
    assert [r["site"].code for r in c["sites"]] == ["S2"]
    assert c["window_before"] == (date(2026, 9, 1), date(2026, 9, 30))


def test_save_evaluation_creates_then_updates_and_audits(history):
    sup1, v1 = history["users"]["sup1"], history["visits"][0]
    e = ops.save_evaluation(sup1, {"lessons": " 经验 ", "went_well": ""}, visit=v1)
    e2 = ops.save_evaluation(sup1, {"suggestions": "建议"}, visit=v1)
    db.session.commit()
    assert e2.id == e.id and (e.lessons, e.suggestions, e.went_well) == (None, "建议", None)
    actions = db.session.query(AuditEntry.action).filter_by(entity_id=e.id).order_by(AuditEntry.id).all()
    assert [a for (a,) in actions] == ["evaluation.created", "evaluation.updated"]


@pytest.mark.parametrize("who", ["sup2", "head1", "staff1"])
def test_only_the_supervisor_in_charge_or_management_writes(history, who):
    with pytest.raises(ops.EvaluationError) as e:
        ops.save_evaluation(history["users"][who], {"lessons": "x"}, visit=history["visits"][0])
    assert e.value.status == 403


def test_an_empty_evaluation_is_refused(history):
    with pytest.raises(ops.EvaluationError):
        ops.save_evaluation(history["users"]["manager"], {"lessons": "  "}, plan=history["plan"])
