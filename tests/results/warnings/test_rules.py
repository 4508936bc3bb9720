"""Each warning rule on hand-made data with known answers: boundaries, inactive rules, idempotent
re-runs, auto-close, notifications and the text in both languages. (Grouping, defaults and snooze:
test_grouping.py and test_snooze.py.)"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import ChecklistAnswer, Notification, Rectification, TemplateItem, Warning, WarningRule
from webapp.results.warnings.operations import (
    WarningError,
    acknowledge_warning,
    check_warnings,
    close_warning,
    render_warning,
    update_warning_rule,
)

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 6, 15)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TZ)


@pytest.fixture
def rule(app):
    def make(kind, threshold, active=True, params=None):
        r = WarningRule(kind=kind, threshold=threshold, active=active, params=params or {})
        db.session.add(r)
        db.session.commit()
        return r

    return make


def warnings(kind=None, status=None):
    q = select(Warning).order_by(Warning.created_at)
    if kind:
        q = q.where(Warning.kind == kind)
    if status:
        q = q.where(Warning.status == status)
    return db.session.scalars(q).all()


def run(today=TODAY):
    result = check_warnings(today)
    db.session.commit()
    return result


# ---- high-severity finding open more than N days ----------------------------------------------

@pytest.mark.parametrize(("captured", "severity", "status", "warns"), [
    (at(TODAY - timedelta(days=7)), "high", "open", False),  # exactly N days: not more than N
    (at(TODAY - timedelta(days=8)), "high", "open", True),
    (at(TODAY - timedelta(days=8), 23, 30), "critical", "rectifying", True),  # local day, not the UTC one
    (at(TODAY - timedelta(days=7), 0, 30), "critical", "open", False),  # 16:30 UTC the day before
    (at(TODAY - timedelta(days=30)), "medium", "open", False),
    (at(TODAY - timedelta(days=30)), "high", "closed", False),
    (at(TODAY - timedelta(days=30)), "high", "pending_acceptance", True),
])
def test_high_severity_open_boundary(world, rule, create_finding, captured, severity, status, warns):
    rule("high_severity_open", 7)
    f = create_finding(world["visits"][0], "高风险", severity=severity, status=status, captured_at=captured)
    run()
    got = warnings("high_severity_open")
    # one warning per site × problem (no checklist item: the finding's area)
    assert [(w.subject_type, w.subject_id, w.problem_key) for w in got] == (
        [("site", f.site_id, "area:process")] if warns else [])
    if warns:
        assert got[0].params["days"] == (TODAY - captured.date()).days
        assert (got[0].occurrences, got[0].occurrence_ids) == (1, [f.id])


def test_rerun_is_idempotent_and_notifies_managers_once(world, rule, create_finding):
    rule("high_severity_open", 7)
    f = create_finding(world["visits"][0], "高风险", severity="high", captured_at=at(TODAY - timedelta(days=10)))
    first = run()
    second = run(TODAY + timedelta(days=1))
    assert len(first.raised) == 1 and second.raised == [] and second.closed == []
    (w,) = warnings()
    assert w.params["days"] == 11  # refreshed figures, same warning
    notes = db.session.scalars(select(Notification).where(Notification.kind == "warning_high_severity_open")).all()
    assert [(n.user_id, n.message, n.link) for n in notes] == [(world["users"]["manager"].id,
                                                                f"{world['sites'][0].name} · 业务流程规范",
                                                                "/results/warnings/")]
    assert f.title in w.message


def test_acknowledged_is_not_duplicated_and_auto_closes(world, rule, create_finding):
    rule("high_severity_open", 7)
    f = create_finding(world["visits"][0], "高风险", severity="high", captured_at=at(TODAY - timedelta(days=10)))
    run()
    (w,) = warnings()
    acknowledge_warning(w, world["users"]["manager"])
    db.session.commit()
    run()
    assert [x.status for x in warnings()] == ["acknowledged"]
    f.status = "closed"
    db.session.commit()
    result = run()
    assert [x.id for x in result.closed] == [w.id]
    db.session.refresh(w)
    assert (w.status, w.closed_by) == ("closed", None) and w.closed_at is not None


def test_closed_by_hand_is_raised_again_while_the_condition_holds(world, rule, create_finding):
    rule("high_severity_open", 7)
    create_finding(world["visits"][0], "高风险", severity="high", captured_at=at(TODAY - timedelta(days=10)))
    run()
    (w,) = warnings()
    close_warning(w, world["users"]["manager"])
    db.session.commit()
    assert w.closed_by == world["users"]["manager"].id
    run()
    assert [x.status for x in warnings()] == ["closed", "open"]


def test_deleted_finding_closes_its_warning(world, rule, create_finding):
    rule("high_severity_open", 7)
    f = create_finding(world["visits"][0], "高风险", severity="high", captured_at=at(TODAY - timedelta(days=10)))
    run()
    f.deleted_at = at(TODAY)
    db.session.commit()
    run()
    assert [x.status for x in warnings()] == ["closed"]


def test_inactive_rule_is_not_evaluated_and_leaves_its_warnings(world, rule, create_finding):
    r = rule("high_severity_open", 7)
    f = create_finding(world["visits"][0], "高风险", severity="high", captured_at=at(TODAY - timedelta(days=10)))
    run()
    r.active = False
    f.status = "closed"
    db.session.commit()
    create_finding(world["visits"][1], "又一个", severity="critical", captured_at=at(TODAY - timedelta(days=20)))
    result = run()
    assert result.raised == [] and result.closed == []
    assert [x.status for x in warnings()] == ["open"]


# ---- score drop --------------------------------------------------------------------------------

@pytest.fixture
def two_visits(world, create_visit, create_template):
    """Site S1: previous completed visit scores 100, the latest 50 (P1 pass, R1 fail)."""
    tpl = create_template("TS")
    items = {i.code: i for i in db.session.scalars(select(TemplateItem).where(TemplateItem.template_id == tpl.id))}
    site, sup = world["sites"][0], world["users"]["sup1"]
    visits = []
    for n, results in enumerate(({"P1": "pass", "R1": "pass"}, {"P1": "pass", "R1": "fail"})):
        v = create_visit(site, sup, status="completed", template=tpl)
        v.completed_at = at(TODAY - timedelta(days=30 - 20 * n))
        for code, result in results.items():
            db.session.add(ChecklistAnswer(visit_id=v.id, item_id=items[code].id, result=result))
        visits.append(v)
    db.session.commit()
    return visits


@pytest.mark.parametrize(("threshold", "warns"), [(50, False), (49.9, True), (10, True)])
def test_score_drop_boundary(world, rule, two_visits, threshold, warns):
    rule("score_drop", threshold)
    run()
    got = warnings("score_drop")
    assert [(w.subject_type, w.subject_id) for w in got] == ([("site", world["sites"][0].id)] if warns else [])
    if warns:
        p = got[0].params
        assert (p["previous"], p["latest"], p["drop"], p["visit_id"]) == (100.0, 50.0, 50.0, two_visits[1].id)


def test_score_drop_uses_only_completed_visits_and_recovers(world, rule, two_visits, create_visit):
    rule("score_drop", 10)
    create_visit(world["sites"][0], world["users"]["sup1"], status="in_progress")  # not completed: ignored
    run()
    assert len(warnings("score_drop", "open")) == 1
    # a third completed visit back at 100: the latest no longer fell → auto-closed
    latest = two_visits[1]
    v = create_visit(world["sites"][0], world["users"]["sup1"], status="completed", template=db.session.get(
        type(latest), latest.id).template)
    v.completed_at = at(TODAY)
    for a in db.session.scalars(select(ChecklistAnswer).where(ChecklistAnswer.visit_id == two_visits[0].id)):
        db.session.add(ChecklistAnswer(visit_id=v.id, item_id=a.item_id, result="pass"))
    db.session.commit()
    run()
    assert [w.status for w in warnings("score_drop")] == ["closed"]


def test_score_drop_needs_two_completed_visits(world, rule, create_visit):
    rule("score_drop", 0)
    v = create_visit(world["sites"][0], world["users"]["sup1"], status="completed")
    v.completed_at = at(TODAY)
    db.session.commit()
    run()
    assert warnings() == []


# ---- repeat problems ---------------------------------------------------------------------------

@pytest.fixture
def chain(world, create_visit, create_finding, create_template):
    """Three findings against item P1 at site S1 on three visits: a repeat chain of 3."""
    tpl = create_template("TR")
    item = db.session.scalar(select(TemplateItem).where(TemplateItem.template_id == tpl.id, TemplateItem.code == "P1"))
    site, sup = world["sites"][0], world["users"]["sup1"]

    def make(days_ago):
        out = []
        for d in days_ago:
            v = create_visit(site, sup, status="completed", template=tpl)
            out.append(create_finding(v, f"重复 {d}", item_id=item.id, captured_at=at(TODAY - timedelta(days=d))))
        return item, out

    return make


@pytest.mark.parametrize(("threshold", "warns"), [(3, True), (4, False), (2, True)])
def test_repeat_problem_threshold(world, rule, chain, threshold, warns):
    rule("repeat_problem", threshold, params={"window_days": 365})
    item, found = chain([200, 100, 10])
    db.session.refresh(found[2])
    assert found[2].repeat_of_id == found[1].id  # set by the server (findings/repeats.py)
    run()
    got = warnings("repeat_problem")
    assert [(w.subject_type, w.subject_id) for w in got] == ([("site", world["sites"][0].id)] if warns else [])
    if warns:  # one warning per site × checklist item
        assert got[0].problem_key == item.id and got[0].params["count"] == 3 and got[0].occurrences == 3
        assert got[0].params["problem"] == {"item_id": item.id, "code": "P1", "title": "P1", "title_en": None}


def test_repeat_problem_counts_only_the_window(world, rule, chain):
    rule("repeat_problem", 2, params={"window_days": 365})
    chain([500, 380, 366])  # a chain, but older than the window
    run()
    assert warnings() == []
    chain([300])  # repeats the one at 366 days: only one chain member inside the window... plus itself
    run()
    assert warnings() == []  # 366 is outside, the new one alone is 1 < 2


@pytest.mark.parametrize(("window", "warns"), [(None, False), (120, True), (90, False)])
def test_repeat_problem_window_is_the_rules_setting(world, rule, chain, window, warns):
    rule("repeat_problem", 3, params={"window_days": window} if window else {})  # default: 90 days
    chain([100, 60, 10])
    run()
    assert len(warnings("repeat_problem")) == (1 if warns else 0)
    if warns:
        assert warnings()[0].params["window"] == window


def test_repeat_problem_needs_a_chain_not_just_findings(world, rule, create_visit, create_finding, create_template):
    rule("repeat_problem", 2)
    tpl = create_template("TN")
    items = db.session.scalars(select(TemplateItem).where(TemplateItem.template_id == tpl.id)).all()
    v = create_visit(world["sites"][0], world["users"]["sup1"], template=tpl)
    for item in items:  # two findings on one visit, different items: no repeat
        create_finding(v, "单次", item_id=item.id, captured_at=at(TODAY - timedelta(days=5)))
    run()
    assert warnings() == []


# ---- overdue rectifications per department -----------------------------------------------------

@pytest.fixture
def overdue(world, create_finding):
    def make(n, deadline, department=None):
        for i in range(n):
            f = create_finding(world["visits"][0], f"整改 {i}", status="rectifying", department=department)
            db.session.add(Rectification(finding_id=f.id, measures="措施", owner="负责人", deadline=deadline,
                                         status="rectifying", submitted_by=world["users"]["head1"].id))
        db.session.commit()

    return make


@pytest.mark.parametrize(("n", "threshold", "warns"), [(3, 3, True), (2, 3, False), (4, 3, True)])
def test_overdue_rectifications_threshold(world, rule, overdue, n, threshold, warns):
    rule("overdue_rectifications", threshold, params={"grace_days": 0})
    overdue(n, TODAY - timedelta(days=1))
    overdue(5, TODAY)  # due today: not overdue yet
    run()
    got = warnings("overdue_rectifications")
    assert [(w.subject_type, w.subject_id, w.params["count"]) for w in got] == (
        [("department", world["depts"][0].id, n)] if warns else [])


def test_overdue_counts_per_department(world, rule, overdue):
    rule("overdue_rectifications", 2, params={"grace_days": 0})
    overdue(1, TODAY - timedelta(days=3))
    overdue(1, TODAY - timedelta(days=3), department=world["depts"][1])
    run()
    assert warnings() == []


# ---- text, actions and rule edits --------------------------------------------------------------

def test_text_is_rendered_in_the_readers_language(app):
    params = {"department": "一部", "department_en": "Dept One", "count": 4, "threshold": 3.0}
    with force_locale("en"):
        en = render_warning("overdue_rectifications", params, "en")
    with force_locale("zh_CN"):
        zh = render_warning("overdue_rectifications", params, "zh_CN")
    assert en == "Dept One has 4 overdue rectifications (rule: at least 3)."
    assert "一部" in zh and "逾期" in zh and en != zh


def test_stored_message_is_in_the_default_language(world, rule, create_finding):
    rule("high_severity_open", 7)
    create_finding(world["visits"][0], "高风险", severity="high", captured_at=at(TODAY - timedelta(days=10)))
    run()
    assert "高风险" in warnings()[0].message and "天" in warnings()[0].message


def test_actions_check_state_and_role(world, rule, create_finding):
    rule("high_severity_open", 7)
    create_finding(world["visits"][0], "高风险", severity="high", captured_at=at(TODAY - timedelta(days=10)))
    run()
    (w,) = warnings()
    with pytest.raises(WarningError) as e:
        acknowledge_warning(w, world["users"]["head1"])
    assert e.value.status == 403
    close_warning(w, world["users"]["admin"])
    with pytest.raises(WarningError):
        acknowledge_warning(w, world["users"]["manager"])
    with pytest.raises(WarningError):
        close_warning(w, world["users"]["manager"])


@pytest.mark.parametrize(("kind", "threshold", "ok"), [
    ("repeat_problem", 2, True), ("repeat_problem", 2.5, False), ("overdue_rectifications", 0, False),
    ("high_severity_open", 0, True), ("score_drop", 7.5, True)])
def test_rule_thresholds_are_checked(world, rule, kind, threshold, ok):
    r = rule(kind, 3)
    if ok:
        update_warning_rule(r, world["users"]["admin"], threshold, False)
        assert (r.threshold, r.active) == (threshold, False)
    else:
        with pytest.raises(WarningError):
            update_warning_rule(r, world["users"]["admin"], threshold, True)


def test_check_counts_live_warnings(world, rule, create_finding):
    rule("high_severity_open", 7)
    create_finding(world["visits"][0], "高风险", severity="high", captured_at=at(TODAY - timedelta(days=10)))
    assert run().still_open == 1
    assert db.session.scalar(select(func.count()).select_from(Warning)) == 1


def test_the_database_refuses_a_second_live_warning(world, rule, create_finding):
    from sqlalchemy.exc import IntegrityError

    rule("high_severity_open", 7)
    f = create_finding(world["visits"][0], "高风险", severity="high", captured_at=at(TODAY - timedelta(days=10)))
    run()
    db.session.add(Warning(kind="high_severity_open", subject_type="site", subject_id=f.site_id,
                           problem_key="area:process", message="x", params={}, status="acknowledged"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(Warning(kind="high_severity_open", subject_type="site", subject_id=f.site_id,
                           problem_key="area:process", message="x", params={}, status="closed"))
    db.session.commit()  # closed ones may repeat
    db.session.add(Warning(kind="high_severity_open", subject_type="site", subject_id=f.site_id,
                           problem_key="area:service", message="x", params={}, status="open"))
    db.session.commit()  # another problem at the same site is another warning
