"""The plan workflow: every transition, who may make it, the audit trail, and publish-to-phone
down to the change feed (the pull endpoint reads sync_changes filtered by supervisor_id)."""

from datetime import date

import pytest
from sqlalchemy import select

from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.models import Change, Visit
from webapp.plans.models import PLAN_TRANSITIONS, Plan
from webapp.plans.operations import (
    PlanError,
    PlanPermissionError,
    add_scheduled_visit,
    allowed_transitions,
    create_plan,
    transition_plan,
    update_plan,
)


@pytest.fixture(autouse=True)
def _in_request(request_ctx):
    yield


def _audit(plan):
    return [e.action for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == plan.id).order_by(AuditEntry.id))]


def _visit_changes():
    return db.session.scalars(select(Change).where(Change.entity == "visit")).all()


def _to(plan, status, world):
    """Walk a plan to `status` along the happy path."""
    path = {"draft": [], "submitted": ["submitted"], "returned": ["submitted", "returned"],
            "approved": ["submitted", "approved"], "published": ["submitted", "approved", "published"],
            "closed": ["submitted", "approved", "published", "closed"]}[status]
    for step in path:
        who = world["users"]["sup1"] if step == "submitted" else world["users"]["manager"]
        transition_plan(who, plan, step, "请补充" if step == "returned" else None)
    db.session.commit()
    return plan


def test_full_cycle_is_audited(world, draft_plan):
    sup1, manager = world["users"]["sup1"], world["users"]["manager"]
    transition_plan(sup1, draft_plan, "submitted")
    transition_plan(manager, draft_plan, "returned", "请补充风险管理的检查重点")
    db.session.commit()
    assert draft_plan.review_comment == "请补充风险管理的检查重点"
    assert draft_plan.reviewer_id == manager.id
    transition_plan(sup1, draft_plan, "submitted")
    transition_plan(manager, draft_plan, "approved")
    transition_plan(manager, draft_plan, "published")
    transition_plan(manager, draft_plan, "closed")
    db.session.commit()
    assert draft_plan.status == "closed"
    assert draft_plan.submitted_at and draft_plan.approved_at and draft_plan.published_at and draft_plan.closed_at
    assert _audit(draft_plan) == ["plan.created", "plan.schedule_added", "plan.submitted", "plan.returned",
                                  "plan.submitted", "plan.approved", "plan.published", "plan.closed"]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "plan.returned")).one()
    assert entry.data == {"from": "submitted", "to": "returned", "comment": "请补充风险管理的检查重点"}
    assert entry.user_id == manager.id


ALL = ("draft", "submitted", "returned", "approved", "published", "closed")


@pytest.mark.parametrize("start", ALL)
@pytest.mark.parametrize("target", ALL)
def test_only_table_transitions_are_possible(world, draft_plan, start, target):
    _to(draft_plan, start, world)
    allowed = target in PLAN_TRANSITIONS[start]
    who = world["users"]["sup1"] if target == "submitted" else world["users"]["manager"]
    if allowed:
        transition_plan(who, draft_plan, target, "原因")
        assert draft_plan.status == target
    else:
        with pytest.raises(PlanError) as e:
            transition_plan(who, draft_plan, target, "原因")
        assert not isinstance(e.value, PlanPermissionError)
        assert draft_plan.status == start


@pytest.mark.parametrize(("role", "start", "target", "ok"), [
    ("sup1", "submitted", "approved", False),   # a supervisor cannot approve, even their own plan
    ("sup1", "submitted", "returned", False),
    ("sup2", "submitted", "approved", False),
    ("admin", "submitted", "approved", False),  # only management approves
    ("head1", "submitted", "approved", False),
    ("manager", "submitted", "approved", True),
    ("manager", "submitted", "returned", True),
    ("sup1", "approved", "published", False),
    ("manager", "approved", "published", True),
    ("sup1", "draft", "submitted", True),       # the author submits
    ("sup2", "draft", "submitted", False),      # another supervisor may not
    ("manager", "draft", "submitted", True),
    ("sup1", "published", "closed", False),
    ("manager", "published", "closed", True),
])
def test_who_may_move_a_plan(world, draft_plan, role, start, target, ok):
    _to(draft_plan, start, world)
    user = world["users"][role]
    if ok:
        transition_plan(user, draft_plan, target, "原因")
        assert draft_plan.status == target
    else:
        with pytest.raises(PlanPermissionError):
            transition_plan(user, draft_plan, target, "原因")
        assert draft_plan.status == start
    assert (target in allowed_transitions(user, draft_plan)) == ok or draft_plan.status == target


def test_returned_plan_cannot_be_published(world, draft_plan):
    _to(draft_plan, "returned", world)
    with pytest.raises(PlanError):
        transition_plan(world["users"]["manager"], draft_plan, "published")
    assert draft_plan.status == "returned"
    assert db.session.scalars(select(Visit).where(Visit.plan_id == draft_plan.id)).all() == []


def test_returning_needs_a_comment(world, draft_plan):
    _to(draft_plan, "submitted", world)
    with pytest.raises(PlanError) as e:
        transition_plan(world["users"]["manager"], draft_plan, "returned", "  ")
    assert "comment" in e.value.fields
    assert draft_plan.status == "submitted"


def test_publish_puts_visits_in_the_change_feed_of_the_assigned_supervisor(world, draft_plan):
    sup1, manager = world["users"]["sup1"], world["users"]["manager"]
    before = {c.record_id for c in _visit_changes()}  # the world's own two visits
    _to(draft_plan, "approved", world)
    assert {c.record_id for c in _visit_changes()} == before, "nothing reaches phones before publishing"

    transition_plan(manager, draft_plan, "published")
    db.session.commit()
    visits = db.session.scalars(select(Visit).where(Visit.plan_id == draft_plan.id)).all()
    assert len(visits) == 1
    v = visits[0]
    year = draft_plan.period_start.year
    assert (v.status, v.supervisor_id, v.scheduled_for, v.due_by) == ("scheduled", sup1.id, date(year, 2, 3),
                                                                      date(year, 2, 7))
    assert v.department_id == world["sites"][0].department_id
    new = [c for c in _visit_changes() if c.record_id not in before]
    assert [(c.record_id, c.supervisor_id, c.department_id) for c in new] == [
        (v.id, sup1.id, v.department_id)]
    assert draft_plan.schedule[0].visit_ids == [v.id]


def test_each_assigned_supervisor_gets_a_visit(world, plan_data, create_template):
    sup1, sup2, manager = world["users"]["sup1"], world["users"]["sup2"], world["users"]["manager"]
    plan = create_plan(manager, plan_data())
    tpl = create_template("T2")
    year = plan.period_start.year
    add_scheduled_visit(manager, plan, {"site_id": world["sites"][1].id, "window_start": date(year, 3, 1),
                                        "window_end": date(year, 3, 1), "supervisor_ids": [sup2.id, sup1.id],
                                        "template_id": tpl.id})
    for step in ("submitted", "approved", "published"):
        transition_plan(manager, plan, step)
    db.session.commit()
    changes = {c.supervisor_id for c in _visit_changes() if c.record_id in plan.schedule[0].visit_ids}
    assert changes == {sup1.id, sup2.id}


def test_schedule_is_checked(world, draft_plan, create_template):
    sup1 = world["users"]["sup1"]
    tpl = create_template("T3")
    bad = {"site_id": "nope", "window_start": date(2001, 1, 1), "window_end": date(2001, 1, 2),
           "supervisor_ids": [world["users"]["manager"].id], "template_id": tpl.id}
    with pytest.raises(PlanError) as e:
        add_scheduled_visit(sup1, draft_plan, bad)
    assert set(e.value.fields) == {"site_id", "supervisor_ids", "window_start"}


def test_only_draft_or_returned_plans_change(world, draft_plan, plan_data):
    _to(draft_plan, "submitted", world)
    with pytest.raises(PlanError):
        update_plan(world["users"]["sup1"], draft_plan, plan_data(title="改"))
    transition_plan(world["users"]["manager"], draft_plan, "returned", "改标题")
    update_plan(world["users"]["sup1"], draft_plan, plan_data(title="改"))
    assert draft_plan.title == "改"
    with pytest.raises(PlanPermissionError):
        update_plan(world["users"]["sup2"], draft_plan, plan_data(title="别人改"))


def test_dept_head_cannot_draft(world, plan_data):
    with pytest.raises(PlanPermissionError):
        create_plan(world["users"]["head1"], plan_data())


def test_parent_plan_must_be_one_level_up_and_cover_the_period(world, plan_data):
    manager = world["users"]["manager"]
    year = date.today().year
    annual = create_plan(manager, plan_data(period_type="annual", number=None, period_start=date(year, 1, 1),
                                            period_end=date(year, 12, 31)))
    quarter = create_plan(manager, plan_data(parent_id=annual.id))
    month = create_plan(manager, plan_data(period_type="monthly", number=2, period_start=date(year, 2, 1),
                                           period_end=date(year, 2, 28), parent_id=quarter.id))
    assert month.parent is quarter and quarter.parent is annual
    with pytest.raises(PlanError, match="quarterly"):
        create_plan(manager, plan_data(period_type="monthly", number=2, period_start=date(year, 2, 1),
                                       period_end=date(year, 2, 28), parent_id=annual.id))
    with pytest.raises(PlanError):
        create_plan(manager, plan_data(period_type="monthly", number=5, period_start=date(year, 5, 1),
                                       period_end=date(year, 5, 31), parent_id=quarter.id))
    assert db.session.scalar(select(Plan).where(Plan.id == month.id)) is month


def test_publish_uses_the_templates_current_revision(world, draft_plan):
    from webapp.checklists.models import ChecklistTemplate

    old = draft_plan.schedule[0].template
    old.is_current = False
    new = ChecklistTemplate(code=old.code, revision=2, name="v2", is_current=True)
    db.session.add(new)
    db.session.commit()
    _to(draft_plan, "published", world)
    visit = db.session.scalars(select(Visit).where(Visit.plan_id == draft_plan.id)).one()
    assert visit.template_id == new.id
