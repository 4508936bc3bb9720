"""`flask --app webapp points post [--period 2026-Q4]` — post the points ledger (run it daily from cron;
it is idempotent, so the current quarter fills in as findings and acceptances come in)."""

from datetime import datetime

import click
from flask.cli import AppGroup

from webapp.extensions import db

points_cli = AppGroup("points", help="Performance points ledger (绩效评估).")


@points_cli.command("post")
@click.option("--period", default=None, help="a quarter such as 2026-Q4 (default: the current quarter)")
def post_command(period):
    """Post the ledger of a quarter: adds entries for causes not yet posted, voids those of deleted findings."""
    from webapp.results.periods import period_containing
    from webapp.results.points.operations import PointsError, company_tz, post_points, posting_period

    try:
        p = posting_period(period) if period else period_containing(datetime.now(company_tz()).date(), "quarter")
    except PointsError:
        raise click.BadParameter("expected a quarter such as 2026-Q4", param_hint="--period") from None
    result = post_points(p)
    db.session.commit()
    click.echo(f"{p.code}: {result.total_added} new entries, {result.voided} voided")
    for code, n in sorted(result.added.items()):
        click.echo(f"  {code:<16} +{n}")
