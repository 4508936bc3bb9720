"""`flask --app webapp warnings check` — run from cron (e.g. hourly or daily at 07:00)."""

import click
from flask.cli import with_appcontext

from webapp.extensions import db


@click.group("warnings")
def warnings_cli():
    """Early warnings (预警)."""


@warnings_cli.command("check")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="evaluate as of this local date (default: today)")
@with_appcontext
def check_command(today):
    """Evaluate every active warning rule; raise, group new occurrences, auto-close, wake snoozes."""
    from webapp.results.warnings.operations import check_warnings

    result = check_warnings(today.date() if today else None)
    db.session.commit()
    for w in result.raised:
        click.echo(f"new: [{w.kind}] {w.message}")
    click.echo(f"{len(result.raised)} new, {len(result.updated)} with new occurrences, "
               f"{len(result.closed)} closed automatically, {len(result.woke)} back from snooze, "
               f"{result.still_open} open or acknowledged")
