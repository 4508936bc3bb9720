"""One live warning per site × problem (issue #19): n occurrences make one warning with count n and
"last seen"; a new occurrence updates it and sends nothing (no notification, no outbox message); a
message only when a group opens or re-opens. Default thresholds when no rule is stored."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Notification, Rectification, TemplateItem, Warning, WarningRule
from webapp.outbox.events import EVENTS
from webapp.outbox.models import OutboxMessage, WebhookEndpoint
from webapp.results.warnings.operations import DEFAULT_RULES, check_warnings, close_warning, effective_rules

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 20)  # the pinned clock's day


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), TZ)


@pytest.fixture
def endpoint(app):
    ep = WebhookEndpoint(name="receiver", url="http://127.0.0.1:9/hook", events=list(EVENTS), active=True, salt="s")
    db.session.add(ep)
    db.session.commit()
    return ep


@pytest.fixture
def item(create_template):
    tpl = create_template("TG")
    return db.session.scalar(select(TemplateItem).where(TemplateItem.template_id == tpl.id, TemplateItem.code == "P1"))


def run(today=TODAY):
    result = check_warnings(today)
    db.session.commit()
    return result


def live():
    return db.session.scalars(select(Warning).where(Warning.status.in_(("open", "acknowledged")))
                              .order_by(Warning.created_at)).all()


def messages(kind="warning_high_severity_open"):
    db.session.expire_all()
    notes = db.session.scalars(select(Notification).where(Notification.kind == kind)).all()
    raised = db.session.scalars(select(OutboxMessage).where(OutboxMessage.event == "warning.raised")).all()
    return len(notes), len(raised)


def test_n_occurrences_make_one_warning_with_count_and_last_seen(world, item, create_finding, endpoint):
    db.session.add(WarningRule(kind="high_severity_open", threshold=7, active=True, params={}))
    v = world["visits"][0]
    found = [create_finding(v, f"高风险 {d}", severity="high", item_id=item.id, captured_at=at(TODAY - timedelta(days=d)))
             for d in (40, 25, 12)]
    result = run()
    (w,) = live()
    assert (w.subject_type, w.subject_id, w.problem_key) == ("site", v.site_id, item.id)
    assert (w.occurrences, w.last_seen_on, sorted(w.occurrence_ids)) == (3, TODAY - timedelta(days=12),
                                                                          sorted(f.id for f in found))
    assert w.params["count"] == 3 and result.raised == [w]
    assert messages() == (1, 1)  # one notification to the one manager, one webhook message

    # a fourth occurrence of the same problem: the same warning counts it; nothing is sent
    fourth = create_finding(v, "又一次", severity="critical", item_id=item.id, captured_at=at(TODAY - timedelta(days=8)))
    result = run()
    (again,) = live()
    assert again.id == w.id and result.raised == [] and result.updated == [again]
    assert (again.occurrences, again.last_seen_on) == (4, TODAY - timedelta(days=8))
    assert fourth.id in again.occurrence_ids and again.params["severity"] == "critical"  # worst first
    assert messages() == (1, 1)

    # re-checking the same day, or later with nothing new, counts nothing twice and sends nothing
    run()
    run(TODAY + timedelta(days=3))
    (same,) = live()
    assert same.occurrences == 4 and messages() == (1, 1)


def test_a_snoozed_or_acknowledged_group_takes_new_occurrences_silently(world, item, create_finding, endpoint):
    from webapp.results.warnings.operations import acknowledge_warning, snooze_warning

    db.session.add(WarningRule(kind="high_severity_open", threshold=7, active=True, params={}))
    v = world["visits"][0]
    create_finding(v, "第一次", severity="high", item_id=item.id, captured_at=at(TODAY - timedelta(days=20)))
    run()
    (w,) = live()
    snooze_warning(w, world["users"]["manager"], TODAY + timedelta(days=7), "整改中", TODAY)
    db.session.commit()
    create_finding(v, "第二次", severity="high", item_id=item.id, captured_at=at(TODAY - timedelta(days=10)))
    run()
    acknowledge_warning(w, world["users"]["manager"])
    db.session.commit()
    create_finding(v, "第三次", severity="high", item_id=item.id, captured_at=at(TODAY - timedelta(days=9)))
    run()
    (same,) = live()
    assert same.id == w.id and same.occurrences == 3 and same.snoozed_until == TODAY + timedelta(days=7)
    assert messages() == (1, 1)


def test_another_problem_or_site_is_another_warning(world, item, create_finding):
    db.session.add(WarningRule(kind="high_severity_open", threshold=7, active=True, params={}))
    v1, v2 = world["visits"]
    old = at(TODAY - timedelta(days=20))
    create_finding(v1, "检查项问题", severity="high", item_id=item.id, captured_at=old)
    create_finding(v1, "同一检查项", severity="high", item_id=item.id, captured_at=old)
    create_finding(v1, "无检查项，按区域", severity="high", area="service", captured_at=old)
    create_finding(v2, "另一场所", severity="high", item_id=item.id, captured_at=old)
    run()
    got = sorted((w.subject_id, w.problem_key, w.occurrences) for w in live())
    assert got == sorted([(v1.site_id, item.id, 2), (v1.site_id, "area:service", 1), (v2.site_id, item.id, 1)])


def test_a_group_that_closed_and_opens_again_sends_again(world, item, create_finding, endpoint):
    db.session.add(WarningRule(kind="high_severity_open", threshold=7, active=True, params={}))
    f = create_finding(world["visits"][0], "高风险", severity="high", item_id=item.id,
                       captured_at=at(TODAY - timedelta(days=20)))
    run()
    f.status = "closed"
    db.session.commit()
    assert [w.status for w in db.session.scalars(select(Warning))] == ["open"]
    run()  # the condition no longer holds: closed automatically, nothing sent
    assert live() == [] and messages() == (1, 1)
    create_finding(world["visits"][0], "又出现", severity="high", item_id=item.id,
                   captured_at=at(TODAY - timedelta(days=9)))
    run()  # the group opens again: a new warning and one new message
    (w,) = live()
    assert w.occurrences == 1 and messages() == (2, 2)
    close_warning(w, world["users"]["manager"])
    db.session.commit()
    run()  # closed by hand while the condition holds: raised again, once
    run()
    assert len(live()) == 1 and messages() == (3, 3)


# ---- defaults and the rules' settings -----------------------------------------------------------

def test_kinds_without_a_stored_rule_run_with_the_defaults(world, create_finding):
    assert {r.kind: (r.threshold, r.settings, r.active, r.rule_id) for r in effective_rules()} == {
        k: (t, s, True, None) for k, (t, s) in DEFAULT_RULES.items()}
    assert DEFAULT_RULES["high_severity_open"][0] == 60
    create_finding(world["visits"][0], "61 天", severity="high", captured_at=at(TODAY - timedelta(days=61)))
    create_finding(world["visits"][1], "60 天", severity="critical", captured_at=at(TODAY - timedelta(days=60)))
    run()
    (w,) = live()
    assert w.params["title"] == "61 天" and w.rule_id is None


def test_a_stored_inactive_rule_turns_the_default_off(world, create_finding):
    db.session.add(WarningRule(kind="high_severity_open", threshold=30, active=False, params={}))
    create_finding(world["visits"][0], "很久", severity="high", captured_at=at(TODAY - timedelta(days=60)))
    run()
    assert live() == []


@pytest.mark.parametrize(("days_overdue", "grace", "warns"), [(7, 7, False), (8, 7, True), (1, 0, True), (30, 30, False)])
def test_overdue_counts_only_past_the_grace_period(world, create_finding, days_overdue, grace, warns):
    db.session.add(WarningRule(kind="overdue_rectifications", threshold=2, active=True, params={"grace_days": grace}))
    for i in range(2):
        f = create_finding(world["visits"][0], f"整改 {i}", status="rectifying")
        db.session.add(Rectification(finding_id=f.id, measures="措施", owner="负责人",
                                     deadline=TODAY - timedelta(days=days_overdue), status="rectifying",
                                     submitted_by=world["users"]["head1"].id))
    db.session.commit()
    run()
    got = [(w.subject_type, w.params["count"], w.params["grace"], w.occurrences) for w in live()]
    assert got == ([("department", 2, grace, 2)] if warns else [])
    if warns:  # seen the day the latest crossed the grace period
        assert live()[0].last_seen_on == TODAY - timedelta(days=days_overdue) + timedelta(days=grace + 1)
