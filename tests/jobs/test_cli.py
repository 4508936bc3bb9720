"""`flask outbox list|retry|deliver` and `flask jobs run`."""

from sqlalchemy import select

from webapp.extensions import db
from webapp.outbox import operations as ops
from webapp.outbox.models import OutboxMessage


def test_outbox_list_retry_and_deliver(app, runner, endpoint, receiver):
    msg = ops.enqueue_message("webhook", "report.approved", endpoint.id, {"x": 1})
    msg.status, msg.attempts, msg.last_error = "failed", 8, "HTTP 500"
    db.session.commit()
    out = runner.invoke(args=["outbox", "list", "--status", "failed"]).output
    assert f"{msg.id}" in out and "HTTP 500" in out and "failed=1" in out
    r = runner.invoke(args=["outbox", "retry", str(msg.id)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["outbox", "retry", str(msg.id)])
    assert r.exit_code != 0 and "pending, not failed" in r.output
    assert runner.invoke(args=["outbox", "retry", "999999"]).exit_code != 0
    r = runner.invoke(args=["jobs", "run", "deliver_outbox"])
    assert r.exit_code == 0 and "deliver_outbox: 1" in r.output
    db.session.rollback()
    assert db.session.scalar(select(OutboxMessage.status)) == "sent"
    assert list(receiver.accepted) == [msg.idempotency_key]
    assert "0 sent" in runner.invoke(args=["outbox", "deliver"]).output
