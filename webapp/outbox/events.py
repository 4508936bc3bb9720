"""Business events for webhooks: raised by the workflow operations in the change's own transaction,
one outbox message per active endpoint subscribed to the event. Payloads: docs/messages.md."""

import uuid

from flask import current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.core.models import new_id, utcnow
from webapp.extensions import db
from webapp.outbox.models import OutboxMessage, WebhookEndpoint, WorkAppRobot
from webapp.outbox.webhooks import EVENTS


def _link(path: str) -> str:
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/") if has_app_context() else ""
    return base + path


def _iso(value):
    return value.isoformat() if value is not None else None


def finding_data(finding) -> dict:
    return {"id": finding.id, "title": finding.title, "severity": finding.severity or "medium", "area": finding.area,
            "status": finding.status or "open", "department_id": finding.department_id, "site_id": finding.site_id,
            "visit_id": finding.visit_id, "supervisor_id": finding.supervisor_id,
            "captured_at": _iso(finding.captured_at), "link": _link(f"/findings/{finding.id}")}


def subscribers(code: str, session: Session) -> list[WebhookEndpoint]:
    with session.no_autoflush:
        return [e for e in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)))
                if code in (e.events or [])]


def robot_subscribers(code: str, session: Session) -> list[WorkAppRobot]:
    with session.no_autoflush:
        return [r for r in session.scalars(select(WorkAppRobot).where(WorkAppRobot.active.is_(True)))
                if code in (r.events or [])]


def raise_event(code: str, data: dict, session: Session | None = None, *, flush: bool = True,
                endpoints: list[WebhookEndpoint] | None = None,
                robots: list[WorkAppRobot] | None = None) -> list[OutboxMessage]:
    """One webhook message per active endpoint subscribed to `code`, one robot message per active
    work-app group robot subscribed to it (added to the session; flushed unless `flush=False`, for
    use inside a flush hook)."""
    assert code in EVENTS, code
    session = session or db.session()
    if endpoints is None:
        endpoints = subscribers(code, session)
    if robots is None:
        robots = robot_subscribers(code, session)
    if not endpoints and not robots:
        return []
    event_id = str(uuid.uuid4())
    body = {"id": event_id, "event": code, "occurred_at": utcnow().isoformat(), "data": data}
    made = []
    if robots:
        from webapp.outbox.workapps import event_card

        card = event_card(code, data)
        for robot in robots:
            message = OutboxMessage(channel="robot", event=code, recipient=robot.id,
                                    payload={"card": card, "event_id": event_id},
                                    idempotency_key=f"{code}:{event_id}:robot:{robot.id[:8]}", status="pending",
                                    attempts=0, next_attempt_at=utcnow())
            session.add(message)
            made.append(message)
    for endpoint in endpoints:
        message = OutboxMessage(channel="webhook", event=code, recipient=endpoint.id, payload=body,
                                idempotency_key=f"{code}:{event_id}:{endpoint.id[:8]}", status="pending",
                                attempts=0, next_attempt_at=utcnow())
        session.add(message)
        made.append(message)
    if flush:
        session.flush()
    return made


# ---- finding.recorded: findings arrive from the desk and from phones' sync alike -------------------

def _before_flush(session, _ctx, _instances):
    from webapp.findings.models import Finding

    new = [obj for obj in session.new if isinstance(obj, Finding) and obj.deleted_at is None]
    endpoints = subscribers("finding.recorded", session) if new else []  # one query per flush
    robots = robot_subscribers("finding.recorded", session) if new else []
    for finding in new if endpoints or robots else ():
        if finding.id is None:
            finding.id = new_id()
        raise_event("finding.recorded", {"finding": finding_data(finding)}, session, flush=False,
                    endpoints=endpoints, robots=robots)


def install_event_hooks() -> None:
    if not sa_event.contains(Session, "before_flush", _before_flush):
        sa_event.listen(Session, "before_flush", _before_flush)


def report_data(report) -> dict:
    return {"id": report.id, "title": report.title, "visit_id": report.visit_id, "status": report.status,
            "approved_at": _iso(report.approved_at), "reviewer_id": report.reviewer_id,
            "link": _link(f"/reports/{report.id}")}


def warning_data(warning, subject_name: str) -> dict:
    return {"id": warning.id, "kind": warning.kind, "subject_type": warning.subject_type,
            "subject_id": warning.subject_id, "subject_name": subject_name, "params": warning.params,
            "message": warning.message, "link": _link("/results/warnings/")}
