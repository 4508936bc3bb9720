"""The policy log's rules: who may do what, sources, and the status workflow."""

import pytest

from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.results.models import Evaluation, PolicySuggestion
from webapp.results.models import Warning as EarlyWarning
from webapp.results.policy import operations as ops


def test_full_workflow_is_audited_with_who_and_when(world, suggestion):
    manager = world["users"]["manager"]
    for to in ("under_review", "adopted", "implemented"):
        ops.transition_suggestion(manager, suggestion, to, "ok")
    db.session.commit()
    entries = db.session.query(AuditEntry).filter_by(entity="policy_suggestion", entity_id=suggestion.id).all()
    assert [(e.action, e.user_id, e.data["from"]) for e in entries] == [
        ("policy_suggestion.under_review", manager.id, "proposed"),
        ("policy_suggestion.adopted", manager.id, "under_review"),
        ("policy_suggestion.implemented", manager.id, "adopted"),
    ]
    assert all(e.at is not None for e in entries)


@pytest.mark.parametrize(("start", "to"), [
    ("proposed", "adopted"), ("proposed", "implemented"), ("under_review", "implemented"),
    ("rejected", "under_review"), ("rejected", "adopted"), ("implemented", "proposed"), ("adopted", "rejected"),
])
def test_illegal_transitions_are_refused(world, suggestion, start, to):
    suggestion.status = start
    with pytest.raises(ops.PolicyError):
        ops.transition_suggestion(world["users"]["manager"], suggestion, to, "why")
    assert suggestion.status == start


def test_not_adopting_needs_a_reason(world, suggestion):
    with pytest.raises(ops.PolicyError) as e:
        ops.transition_suggestion(world["users"]["admin"], suggestion, "rejected", " ")
    assert "comment" in e.value.fields
    ops.transition_suggestion(world["users"]["admin"], suggestion, "rejected", "成本过高")
    assert suggestion.status == "rejected"


@pytest.mark.parametrize("who", ["sup1", "head1", "staff1"])
def test_only_management_moves_the_status(world, suggestion, who):
    with pytest.raises(ops.PolicyError) as e:
        ops.transition_suggestion(world["users"][who], suggestion, "under_review")
    assert e.value.status == 403


def test_supervisor_proposes_without_owner_manager_sets_owner(world):
    sup1, manager = world["users"]["sup1"], world["users"]["manager"]
    s = ops.create_suggestion(sup1, {"title": " 标题 ", "owner_id": manager.id})
    assert (s.title, s.owner_id, s.author_id, s.status) == ("标题", None, sup1.id, "proposed")
    s2 = ops.create_suggestion(manager, {"title": "t", "owner_id": sup1.id})
    assert s2.owner_id == sup1.id


def test_warning_source_is_accepted(world):
    w = EarlyWarning(kind="score_drop", subject_type="site", subject_id=world["sites"][0].id, message="评分下降 12 分")
    db.session.add(w)
    db.session.flush()
    s = ops.create_suggestion(world["users"]["manager"], {"title": "t", "source_type": "warning", "source_id": w.id})
    assert (s.source_type, s.source_id) == ("warning", w.id)
    assert ops.prefill(world["users"]["manager"], "warning", w.id)["body"] == "评分下降 12 分"


def test_sources_must_exist_and_be_visible(world):
    sup2 = world["users"]["sup2"]
    f1 = world["findings"][0]  # sup1's finding
    with pytest.raises(ops.PolicyError) as e:
        ops.create_suggestion(sup2, {"title": "t", "source_type": "finding", "source_id": f1.id})
    assert "source_id" in e.value.fields
    with pytest.raises(ops.PolicyError):
        ops.create_suggestion(sup2, {"title": "t", "source_type": "finding"})
    with pytest.raises(ops.PolicyError):
        ops.create_suggestion(sup2, {"title": "t", "source_type": "evaluation", "source_id": "missing"})


def test_prefill_from_an_evaluation_and_a_finding(world):
    v1 = world["visits"][0]
    e = Evaluation(visit_id=v1.id, author_id=world["users"]["sup1"].id, suggestions="弹性排班")
    db.session.add(e)
    db.session.flush()
    values = ops.prefill(world["users"]["sup1"], "evaluation", e.id)
    assert (values["source_type"], values["source_id"], values["body"]) == ("evaluation", e.id, "弹性排班")
    assert ops.prefill(world["users"]["sup2"], "evaluation", e.id) == {}  # not sup2's visit
    assert "一部的问题" in ops.prefill(world["users"]["sup1"], "finding", world["findings"][0].id)["title"]


def test_author_edits_only_while_proposed(world, suggestion):
    sup1 = world["users"]["sup1"]
    ops.update_suggestion(sup1, suggestion, {"title": "新标题"})
    suggestion.status = "under_review"
    with pytest.raises(ops.PolicyError) as e:
        ops.update_suggestion(sup1, suggestion, {"title": "再改"})
    assert e.value.status == 403
    with pytest.raises(ops.PolicyError):
        ops.update_suggestion(world["users"]["sup2"], PolicySuggestion(status="proposed", author_id=sup1.id), {"title": "x"})
