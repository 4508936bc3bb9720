"""After the commit that wrote outbox rows — and only then — ask the job queue to deliver now.

A transaction that wrote none triggers nothing; a rolled-back one triggers nothing (its rows are
gone anyway). The periodic delivery task (every minute) catches whatever a trigger missed, for
instance when the queue was unreachable at that moment."""

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.outbox.models import OutboxMessage


def _after_flush(session, _ctx):
    if any(isinstance(obj, OutboxMessage) for obj in session.new):
        session.info["outbox_written"] = True


def _after_commit(session):
    # after_commit fires for the outermost commit only once no savepoint is open.
    if session.in_nested_transaction() or not session.info.pop("outbox_written", False):
        return
    if not has_app_context():
        return
    app = current_app._get_current_object()
    if not app.config.get("OUTBOX_TRIGGER_ON_COMMIT", True):
        return
    from webapp.jobs import ask_queue

    ask_queue(app, "deliver_outbox")  # unreachable: the periodic delivery sends them; nothing is lost


def _after_rollback(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop("outbox_written", None)


def install_outbox_hooks() -> None:
    from webapp.outbox.events import install_event_hooks

    install_event_hooks()
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)
