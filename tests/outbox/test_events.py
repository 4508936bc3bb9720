"""Business events raised by the workflow in the change's transaction, then delivered, signed, to a
subscribed endpoint; an endpoint not subscribed (or inactive) gets nothing."""

from datetime import date, timedelta

from sqlalchemy import select

from webapp.extensions import db
from webapp.outbox import operations as outbox
from webapp.outbox.models import OutboxMessage, WebhookEndpoint
from webapp.rectification import operations as rect_ops
from webapp.reports import operations as report_ops

LATER = date(2026, 11, 30)


def _events():
    db.session.rollback()
    return [(m.event, m.recipient) for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_rectification_and_acceptance_events(world, endpoint, receiver):
    quiet = WebhookEndpoint(name="only reports", url=receiver.url, events=["report.approved"], salt="x")
    off = WebhookEndpoint(name="off", url=receiver.url, events=["acceptance.passed"], active=False, salt="y")
    db.session.add_all([quiet, off])
    db.session.commit()
    f, head, sup = world["findings"][0], world["users"]["head1"], world["users"]["sup1"]
    rect_ops.submit_plan(f, head, "补齐签字", "员工甲", LATER)
    rect_ops.submit_for_acceptance(f, head)
    rect_ops.decide_acceptance(f, sup, "fail", "签字不全", LATER + timedelta(days=5))
    db.session.rollback()  # none of it happened: no event either
    assert _events() == []
    f = db.session.merge(f)
    rect_ops.submit_plan(f, head, "补齐签字", "员工甲", LATER)
    rect_ops.submit_for_acceptance(f, head)
    rect_ops.decide_acceptance(f, sup, "fail", "签字不全", LATER + timedelta(days=5))
    rect_ops.submit_for_acceptance(f, head)
    rect_ops.decide_acceptance(f, sup, "pass")
    db.session.commit()
    assert _events() == [("rectification.submitted", endpoint.id), ("acceptance.failed", endpoint.id),
                         ("rectification.submitted", endpoint.id), ("acceptance.passed", endpoint.id)]
    assert outbox.deliver_due().sent == 4
    bodies = receiver.bodies()
    failed = next(b for b in bodies if b["event"] == "acceptance.failed")
    assert failed["data"]["finding"]["id"] == f.id and failed["data"]["acceptance"]["reason"] == "签字不全"
    assert failed["data"]["acceptance"]["new_deadline"] == (LATER + timedelta(days=5)).isoformat()
    assert {b["id"] for b in bodies} and len({b["id"] for b in bodies}) == 4


def test_report_approved_event(world, endpoint, receiver):
    u = world["users"]
    report = report_ops.create_report(world["visits"][0], u["sup1"])
    report_ops.submit_report(report, u["sup1"])
    report_ops.review_report(report, u["manager"], "approve")
    db.session.commit()
    assert ("report.approved", endpoint.id) in _events()
    outbox.deliver_due()
    (body,) = [b for b in receiver.bodies() if b["event"] == "report.approved"]
    assert body["data"]["report"]["id"] == report.id and body["data"]["report"]["status"] == "approved"


def test_finding_recorded_event_for_any_new_finding(world, endpoint, create_finding, receiver):
    f = create_finding(world["visits"][0], "灭火器过期", severity="high")
    assert ("finding.recorded", endpoint.id) in _events()
    outbox.deliver_due()
    (body,) = [b for b in receiver.bodies() if b["event"] == "finding.recorded"]
    assert body["data"]["finding"]["id"] == f.id and body["data"]["finding"]["severity"] == "high"
    assert receiver.raw[-1]["headers"]["X-Supervision-Event"] == "finding.recorded"


def test_warning_raised_event(world, endpoint, create_finding, receiver):
    from webapp.models import Rectification, WarningRule
    from webapp.results.warnings.operations import check_warnings

    for i in range(2):
        f = create_finding(world["visits"][0], f"逾期 {i}", status="rectifying")
        db.session.add(Rectification(finding_id=f.id, measures="m", owner="o", deadline=date(2026, 11, 1),
                                     status="rectifying", submitted_by=world["users"]["head1"].id))
    db.session.add(WarningRule(kind="overdue_rectifications", threshold=2, active=True, params={}))
    db.session.commit()
    check_warnings()
    db.session.commit()
    assert ("warning.raised", endpoint.id) in _events()
    outbox.deliver_due()
    (body,) = [b for b in receiver.bodies() if b["event"] == "warning.raised"]
    assert body["data"]["warning"]["kind"] == "overdue_rectifications" and body["data"]["warning"]["params"]["count"] == 2


def test_no_endpoint_no_message(world, create_finding):
    create_finding(world["visits"][0], "x")
    assert _events() == []
