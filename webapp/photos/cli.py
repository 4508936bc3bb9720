"""`flask --app webapp photos orphans [--older-than-days N] [--purge]` (operator command)."""

import click
from flask.cli import AppGroup

from webapp.extensions import db

photos_cli = AppGroup("photos", help="Photo evidence storage.")


@photos_cli.command("orphans")
@click.option("--older-than-days", default=7, show_default=True, type=click.IntRange(min=0),
              help="grace period: only photos uploaded longer ago than this")
@click.option("--purge", is_flag=True, help="delete them (records and stored bytes)")
def orphans_command(older_than_days, purge):
    """List photos that no record refers to; with --purge, delete them. Referenced photos are
    never touched, whatever their age."""
    from webapp.photos.operations import delete_objects, list_orphans, purge_orphans

    orphans = list_orphans(older_than_days)
    for photo in orphans:
        click.echo(f"{photo.sha256}  {photo.size:>10}  {photo.uploaded_at.isoformat()}")
    if not purge:
        db.session.rollback()
        click.echo(f"{len(orphans)} orphan photo(s) older than {older_than_days} day(s); --purge deletes them")
        return
    keys = purge_orphans(orphans)
    db.session.commit()
    delete_objects(keys)  # after the commit: a failed commit never leaves records without bytes
    click.echo(f"purged {sum(1 for k in keys if '.' not in k)} orphan photo(s)")


@photos_cli.command("renditions")
def renditions_command():
    """Make the thumb and display renditions that photos stored before the one ingest path lack
    (a photo GET never renders them). Photos the ingest rules refuse (too many pixels, damaged)
    are counted and keep none."""
    from webapp.photos.operations import make_missing_renditions

    made, refused = make_missing_renditions()
    db.session.commit()
    click.echo(f"renditions made for {made} photo(s); {refused} refused by the ingest rules")
