"""The points ledger and the review step (docs/review.md#what-counts): a finding awaiting review or
rejected earns no points; rejecting or merging a finding voids its entries at once (kept, with a
note); a rejected finding confirmed again counts again; merged findings count once."""

from sqlalchemy import select

from tests.results.points.conftest import Q4, TODAY, local
from webapp.extensions import db
from webapp.findings import review
from webapp.results.models import PointAppeal, PointEntry
from webapp.results.points.operations import (
    VOID_FINDING_MERGED,
    VOID_FINDING_REJECTED,
    department_totals,
    post_points,
)


def _entries(finding):
    return db.session.scalars(select(PointEntry).where(PointEntry.finding_id == finding.id)).all()


def _total(ledger, dept=0):
    manager = ledger["users"]["manager"]
    rows = {r["department"].id: r["total"] for r in department_totals(manager, Q4.code)}
    return rows[ledger["depts"][dept].id]


def test_pending_and_rejected_findings_earn_nothing(ledger, finding_at):
    manager = ledger["users"]["manager"]
    pending = finding_at(local(2026, 10, 5), "medium", review_status="pending")
    rejected = finding_at(local(2026, 10, 6), "high", review_status="pending")
    review.reject_finding(rejected, manager, "不是问题")
    db.session.commit()
    assert post_points(Q4, today=TODAY).total_added == 0
    review.confirm_finding(pending, manager)
    db.session.commit()
    assert post_points(Q4, today=TODAY).total_added == 1
    assert [e.points for e in _entries(pending)] == [-2] and _entries(rejected) == []


def test_rejecting_voids_at_once_and_confirming_again_restores(ledger, finding_at):
    manager = ledger["users"]["manager"]
    f = finding_at(local(2026, 10, 5), "high")  # confirmed, posted
    post_points(Q4, today=TODAY)
    db.session.commit()
    assert _total(ledger) == -5
    review.reject_finding(f, manager, "复核后确认不构成问题")
    db.session.commit()
    [entry] = _entries(f)
    assert (entry.status, entry.note) == ("voided", VOID_FINDING_REJECTED)
    assert _total(ledger) == 0
    assert post_points(Q4, today=TODAY).total_added == 0  # re-posting adds nothing back
    review.confirm_finding(f, manager, "补充材料证实问题存在")
    db.session.commit()
    assert [(e.status, e.note) for e in _entries(f)] == [("active", None)]
    assert _total(ledger) == -5


def test_a_pending_appeal_survives_a_reject_and_confirm(ledger, finding_at):
    manager, head = ledger["users"]["manager"], ledger["users"]["head1"]
    f = finding_at(local(2026, 10, 5), "medium")
    post_points(Q4, today=TODAY)
    [entry] = _entries(f)
    entry.status = "appealed"
    db.session.add(PointAppeal(entry_id=entry.id, appellant_id=head.id, reason="有异议"))
    db.session.commit()
    review.reject_finding(f, manager, "不是问题")
    review.confirm_finding(f, manager)
    db.session.commit()
    assert _entries(f)[0].status == "appealed"


def test_merged_findings_count_once(ledger, finding_at):
    manager = ledger["users"]["manager"]
    survivor = finding_at(local(2026, 10, 5), "medium")
    duplicate = finding_at(local(2026, 10, 5, 11), "medium")
    post_points(Q4, today=TODAY)
    db.session.commit()
    assert _total(ledger) == -4  # counted twice before the review saw they are one problem
    review.merge_findings(duplicate, survivor, manager, "同一问题")
    db.session.commit()
    assert [(e.status, e.note) for e in _entries(duplicate)] == [("voided", VOID_FINDING_MERGED)]
    assert [e.status for e in _entries(survivor)] == ["active"]
    assert _total(ledger) == -2
    assert post_points(Q4, today=TODAY).total_added == 0


def test_posting_sweeps_entries_of_findings_reviewed_outside_the_operations(ledger, finding_at):
    f = finding_at(local(2026, 10, 5), "low")
    post_points(Q4, today=TODAY)
    f.review_status = "rejected"  # e.g. a bulk correction in the database
    db.session.commit()
    result = post_points(Q4, today=TODAY)
    assert result.voided == 1 and _entries(f)[0].note == VOID_FINDING_REJECTED
