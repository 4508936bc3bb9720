"""`flask jobs worker` (the consumer: outbox delivery, daily checks), `flask outbox list|retry|deliver`."""

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from webapp.extensions import db

jobs_cli = AppGroup("jobs", help="The job queue (huey): workers and scheduled tasks.")
outbox_cli = AppGroup("outbox", help="Messages waiting, sent and failed (docs/messages.md).")


@jobs_cli.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="worker threads in this process")
@click.option("--no-periodic", is_flag=True, help="do not run the scheduled tasks here")
def worker_command(workers, no_periodic):
    """Run the queue's consumer until stopped (Ctrl-C / SIGTERM)."""
    import logging

    from webapp.jobs import get_huey

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    huey = get_huey(current_app._get_current_object())
    click.echo(f"jobs worker: {workers} thread(s), queue {huey.name!r} ({type(huey.storage).__name__})", err=True)
    huey.supervision_tasks["deliver_outbox"]()  # what is due now, without waiting for the minute
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=not no_periodic,
                                    check_worker_health=True)
    consumer.run()


@jobs_cli.command("run")
@click.argument("task", type=click.Choice(["deliver_outbox", "warnings_check", "overdue_reminders",
                                           "photo_renditions", "export_cleanup"]))
def run_command(task):
    """Run one task now, in this process."""
    from webapp.jobs import get_huey

    db.session.rollback()  # the task runs in a context (and a session) of its own
    result = get_huey(current_app._get_current_object()).supervision_tasks[task].call_local()
    click.echo(f"{task}: {result}")


@outbox_cli.command("list")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed"]), default=None)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
def list_command(status, limit):
    """The latest messages, newest first."""
    from webapp.outbox.models import OutboxMessage
    from webapp.outbox.operations import counts_by_status

    q = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status:
        q = q.where(OutboxMessage.status == status)
    for m in db.session.scalars(q):
        click.echo(f"{m.id:>7}  {m.status:<8} {m.channel:<8} {m.event:<36} attempts={m.attempts} "
                   f"{m.idempotency_key}  {m.last_error or ''}")
    click.echo(" ".join(f"{k}={v}" for k, v in counts_by_status().items()))


@outbox_cli.command("retry")
@click.argument("message_id", type=int)
def retry_command(message_id):
    """Send a failed message again."""
    from webapp.outbox.models import OutboxMessage
    from webapp.outbox.operations import NotRetryable, retry_message

    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        db.session.rollback()
        raise click.ClickException(f"no message {message_id}")
    try:
        retry_message(message, None)
    except NotRetryable as e:
        db.session.rollback()
        raise click.ClickException(f"message {message_id} is {e}, not failed") from e
    db.session.commit()
    click.echo(f"message {message_id} is due again")


@outbox_cli.command("deliver")
def deliver_command():
    """Deliver every due message now, in this process (no worker needed)."""
    from webapp.outbox.operations import deliver_due

    stats = deliver_due()
    click.echo(f"{stats.sent} sent, {stats.retrying} to retry, {stats.failed} failed")
