"""post_points: every trigger on hand-made data with known answers, local-time period boundaries,
inactive and person rules, idempotent re-runs, voiding, and the ledger as history."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tests.results.points.conftest import Q3, Q4, TODAY, local
from webapp.extensions import db
from webapp.results.models import PointEntry, PointRule
from webapp.results.points.operations import VOID_FINDING_DELETED, PointsError, post_points, posting_period


def entries(**where):
    q = select(PointEntry).order_by(PointEntry.id)
    for k, v in where.items():
        q = q.where(getattr(PointEntry, k) == v)
    return db.session.scalars(q).all()


def codes(rows):
    return sorted(e.rule.code for e in rows)


def test_finding_severity_one_entry_per_finding_with_that_severity(ledger, finding_at):
    d1, d2 = ledger["depts"]
    f_low = finding_at(local(2026, 10, 5), "low")
    f_med = finding_at(local(2026, 11, 5), "medium", dept=2)
    f_high = finding_at(local(2026, 12, 5), "high")
    finding_at(local(2026, 10, 6), "critical")  # no rule for critical in this fixture
    result = post_points(Q4, today=TODAY)
    db.session.commit()
    assert result.total_added == 3
    rows = entries()
    got = {(e.finding_id, e.department_id, e.points, e.cause_type, e.period) for e in rows}
    assert got == {(f_low.id, d1.id, -1, "finding", "2026-Q4"), (f_med.id, d2.id, -2, "finding", "2026-Q4"),
                   (f_high.id, d1.id, -5, "finding", "2026-Q4")}
    assert all(e.target == f"department:{e.department_id}" and e.person_id is None for e in rows)
    assert all(e.status == "active" for e in rows)


def test_period_boundaries_are_local_time(ledger, finding_at):
    # 2026-09-30 23:59 in Shanghai is Q3 (15:59 UTC); 2026-10-01 00:00 local is Q4 (still 30 Sep in UTC).
    last_q3 = finding_at(local(2026, 9, 30, 23, 59), "low")
    first_q4 = finding_at(local(2026, 10, 1, 0, 0), "low")
    assert first_q4.captured_at.astimezone(UTC).day == 30
    post_points(Q3, today=TODAY)
    post_points(Q4, today=TODAY)
    db.session.commit()
    assert {e.finding_id: e.period for e in entries()} == {last_q3.id: "2026-Q3", first_q4.id: "2026-Q4"}


def test_inactive_rules_post_nothing(ledger, finding_at):
    ledger["rules"]["DED-LOW"].active = False
    finding_at(local(2026, 10, 5), "low")
    finding_at(local(2026, 10, 5), "medium")
    post_points(Q4, today=TODAY)
    assert codes(entries()) == ["DED-MED"]


def test_finding_without_department_is_skipped(ledger, finding_at):
    f = finding_at(local(2026, 10, 5), "low")
    f.department_id = None
    db.session.commit()
    assert post_points(Q4, today=TODAY).total_added == 0


def test_person_rule_goes_to_the_named_person_of_the_department(ledger, finding_at):
    d1 = ledger["depts"][0]
    db.session.add(PointRule(code="PER-MED", name="责任人", trigger="finding_severity", severity="medium",
                             points=-1, applies_to="person"))
    db.session.commit()
    named = finding_at(local(2026, 10, 5), "medium", responsible_person="员工甲")
    finding_at(local(2026, 10, 6), "medium", responsible_person="员工乙")  # 员工乙 is in department 2
    finding_at(local(2026, 10, 7), "medium", responsible_person="没有这个人")
    finding_at(local(2026, 10, 8), "medium")  # nobody named
    post_points(Q4, today=TODAY)
    person_rows = [e for e in entries() if e.rule.code == "PER-MED"]
    assert [(e.finding_id, e.person_id, e.department_id, e.points) for e in person_rows] == [
        (named.id, ledger["people"]["甲"].id, d1.id, -1)]
    assert person_rows[0].target == f"person:{ledger['people']['甲'].id}"
    assert len([e for e in entries() if e.rule.code == "DED-MED"]) == 4  # the department rule still applies


def test_ambiguous_person_name_gets_no_person_entry(ledger, finding_at):
    from webapp.org.models import Person

    db.session.add(Person(name="员工甲", department_id=ledger["depts"][0].id))
    db.session.add(PointRule(code="PER-MED", name="责任人", trigger="finding_severity", severity="medium",
                             points=-1, applies_to="person"))
    db.session.commit()
    finding_at(local(2026, 10, 5), "medium", responsible_person="员工甲")
    post_points(Q4, today=TODAY)
    assert codes(entries()) == ["DED-MED"]


def test_accepted_first_round_on_time(ledger, finding_at, rectify):
    on_time = rectify(finding_at(local(2026, 9, 1)), "accepted", deadline=date(2026, 10, 10),
                      accepted_at=local(2026, 10, 10, 23, 30))  # on the deadline day, local time
    rectify(finding_at(local(2026, 9, 2)), "accepted", deadline=date(2026, 10, 10),
            accepted_at=local(2026, 10, 11, 0, 30))  # a day late
    rectify(finding_at(local(2026, 9, 3)), "accepted", deadline=date(2026, 12, 1),
            accepted_at=local(2026, 10, 20), fails=[local(2026, 9, 20)])  # second round
    rectify(finding_at(local(2026, 9, 4)), "accepted", deadline=date(2026, 9, 30),
            accepted_at=local(2026, 9, 29))  # accepted in Q3
    post_points(Q4, today=TODAY)
    bonus = entries(cause_type="rectification")
    assert [(e.cause_id, e.points, e.finding_id) for e in bonus] == [(on_time.id, 3, on_time.finding_id)]
    assert bonus[0].occurred_at == local(2026, 10, 10, 23, 30)


def test_overdue_once_per_rectification(ledger, finding_at, rectify):
    late = rectify(finding_at(local(2026, 9, 1)), "rectifying", deadline=date(2026, 9, 20),
                   created_at=local(2026, 9, 2))
    rectify(finding_at(local(2026, 9, 2)), "rectifying", deadline=date(2026, 12, 31))  # not yet due
    rectify(finding_at(local(2026, 9, 3)), "pending_acceptance", deadline=date(2026, 9, 20))  # supervisor's turn
    post_points(Q3, today=TODAY)  # overdue at the end of Q3
    post_points(Q4, today=TODAY)
    rows = [e for e in entries() if e.rule.code == "DED-OVERDUE"]
    assert [(e.cause_id, e.period, e.points) for e in rows] == [(late.id, "2026-Q3", -3)]


def test_overdue_is_judged_on_the_period_end_or_today(ledger, finding_at, rectify):
    due_dec_10 = rectify(finding_at(local(2026, 11, 1)), "rectifying", deadline=date(2026, 12, 10))
    due_dec_31 = rectify(finding_at(local(2026, 11, 2)), "rectifying", deadline=date(2026, 12, 31))
    post_points(Q4, today=date(2026, 12, 10))  # due today: not overdue yet
    assert entries(cause_type="rectification") == []
    post_points(Q4, today=TODAY)  # 15 Dec
    assert [e.cause_id for e in entries(cause_type="rectification")] == [due_dec_10.id]
    post_points(Q4, today=date(2027, 2, 1))  # after the quarter: judged on its end, 1 Jan
    assert sorted(e.cause_id for e in entries(cause_type="rectification")) == sorted([due_dec_10.id, due_dec_31.id])


def test_acceptance_failed_per_failed_round_in_the_period(ledger, finding_at, rectify):
    rect = rectify(finding_at(local(2026, 9, 1)), "rectifying", deadline=date(2027, 1, 31),
                   fails=[local(2026, 9, 30, 23, 0), local(2026, 10, 15), local(2026, 12, 20)])
    post_points(Q4, today=TODAY)
    rows = entries(cause_type="acceptance_round")
    assert len(rows) == 2 and {e.points for e in rows} == {-2}
    assert {e.finding_id for e in rows} == {rect.finding_id}
    post_points(Q3, today=TODAY)
    assert len(entries(cause_type="acceptance_round")) == 3


def test_rerun_is_idempotent_and_adds_only_new_causes(ledger, finding_at):
    finding_at(local(2026, 10, 5), "low")
    assert post_points(Q4, today=TODAY).total_added == 1
    db.session.commit()
    assert post_points(Q4, today=TODAY).total_added == 0
    finding_at(local(2026, 10, 6), "high")
    again = post_points(Q4, today=TODAY)
    db.session.commit()
    assert again.total_added == 1 and dict(again.added) == {"DED-HIGH": 1}
    assert len(entries()) == 2


def test_unique_constraint_refuses_a_duplicate(ledger, finding_at):
    from sqlalchemy.exc import IntegrityError

    finding_at(local(2026, 10, 5), "low")
    post_points(Q4, today=TODAY)
    db.session.commit()
    e = entries()[0]
    db.session.add(PointEntry(rule_id=e.rule_id, target=e.target, department_id=e.department_id, points=-1,
                              cause_type=e.cause_type, cause_id=e.cause_id, period="2026-Q3"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_rule_change_affects_only_later_entries(ledger, finding_at):
    finding_at(local(2026, 10, 5), "low")
    post_points(Q4, today=TODAY)
    db.session.commit()
    ledger["rules"]["DED-LOW"].points = -4
    db.session.commit()
    finding_at(local(2026, 10, 6), "low")
    post_points(Q4, today=TODAY)
    db.session.commit()
    assert [e.points for e in entries()] == [-1, -4]


def test_deleted_finding_entries_are_voided_not_removed(ledger, finding_at, rectify):
    f = finding_at(local(2026, 10, 5), "high")
    rectify(f, "rectifying", deadline=date(2026, 10, 31), fails=[local(2026, 10, 20)])
    post_points(Q4, today=TODAY)
    db.session.commit()
    assert len(entries()) == 3  # severity, overdue, failed round
    f.deleted_at = datetime.now(UTC)
    db.session.commit()
    result = post_points(Q4, today=TODAY)
    db.session.commit()
    assert result.voided == 3 and result.total_added == 0
    assert {(e.status, e.note) for e in entries()} == {("voided", VOID_FINDING_DELETED)}
    assert post_points(Q4, today=TODAY).voided == 0  # once


@pytest.mark.parametrize("code", ["2026-11", "2026", "2026-Q5", "", "Q4-2026"])
def test_only_quarters_are_posted(app, code):
    with pytest.raises(PointsError):
        posting_period(code)


def test_cli_posts_a_quarter(ledger, finding_at, runner):
    finding_at(local(2026, 10, 5), "low")
    db.session.commit()
    out = runner.invoke(args=["points", "post", "--period", "2026-Q4"])
    assert out.exit_code == 0, out.output
    assert "2026-Q4: 1 new entries" in out.output
    db.session.rollback()
    assert len(entries()) == 1
    bad = runner.invoke(args=["points", "post", "--period", "2026-13"])
    assert bad.exit_code != 0 and "2026-Q4" in bad.output
