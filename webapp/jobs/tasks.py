"""The tasks: outbox delivery (every minute, and on demand after a commit), the dashboard's snapshots
(counted again on demand when a page found one behind, and every DASHBOARD_REFRESH_MINUTES), SQLite's planner statistics (nightly), the daily early-warnings
check and overdue-rectification reminders, the nightly photo renditions, and each month's recurring
visits by site class (generated for the next month on JOBS_RECURRING_DAY). Daily times are in
JOBS_TIMEZONE (Asia/Shanghai by default)."""

import functools
import logging
from datetime import UTC
from zoneinfo import ZoneInfo

from huey import crontab

from webapp.extensions import db

log = logging.getLogger("webapp.jobs")


def local_crontab(tz: str, **kwargs):
    """huey's crontab, read in a time zone (huey hands periodic checks a naive UTC time)."""
    test = crontab(**kwargs)
    zone = ZoneInfo(tz)

    def validate(timestamp):
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=UTC)
        return test(timestamp.astimezone(zone).replace(tzinfo=None))

    return validate


def _hour_minute(value: str) -> tuple[str, str]:
    hour, minute = (value or "07:30").split(":", 1)
    return str(int(hour)), str(int(minute))


def register_tasks(huey, app) -> dict:
    tz = app.config.get("JOBS_TIMEZONE") or "Asia/Shanghai"

    def in_app(fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with app.app_context():
                try:
                    return fn(*args, **kwargs)
                except Exception:
                    db.session.rollback()
                    raise
                finally:
                    db.session.remove()

        return wrapped

    @in_app
    def _deliver():
        from webapp.outbox.operations import deliver_due

        stats = deliver_due(limit=10, max_batches=100)  # small batches spread the work over the workers
        if stats.claimed:
            log.info("outbox: %s sent, %s to retry, %s failed", stats.sent, stats.retrying, stats.failed)
        return stats.sent

    @in_app
    def _warnings():
        from webapp.results.warnings.operations import check_warnings

        result = check_warnings()
        db.session.commit()
        log.info("warnings check: %s new, %s closed", len(result.raised), len(result.closed))
        return len(result.raised)

    @in_app
    def _overdue():
        from webapp.rectification.operations import notify_overdue

        sent = notify_overdue()
        db.session.commit()
        log.info("overdue reminders: %s notifications", sent)
        return sent

    @in_app
    def _renditions():
        from webapp.photos.operations import make_missing_renditions

        made, refused = make_missing_renditions()
        db.session.commit()
        return made

    @in_app
    def _digests():
        from webapp.notifications.preferences import send_digests

        made = send_digests()
        db.session.commit()
        log.info("daily digests: %s emails", made)
        return made

    @in_app
    def _export(job_id):
        from webapp.exports.operations import run_export

        status = run_export(job_id)
        log.info("export %s: %s", job_id, status)
        return status

    @in_app
    def _export_cleanup():
        from webapp.exports.operations import cleanup_exports

        expired, interrupted = cleanup_exports()
        db.session.commit()
        if expired or interrupted:
            log.info("exports: %s files expired, %s interrupted jobs failed", expired, interrupted)
        return expired

    @in_app
    def _recurring():
        from webapp.plans.recurring import generate_next_month

        made = generate_next_month()
        db.session.commit()
        log.info("recurring visits: %s generated for next month", made)
        return made

    def _count_dashboard(key) -> bool:
        """Count one dashboard snapshot again (reading outside SQLite's writer lock) and keep it."""
        from webapp.core.database import sqlite_reading, write_retrying
        from webapp.results.dashboard.snapshots import recount_key, store_snapshot

        with sqlite_reading():
            row = recount_key(key, app.config["BABEL_DEFAULT_TIMEZONE"])
        if row is None:
            db.session.rollback()
            return False
        write_retrying(lambda: store_snapshot(row))
        log.info("dashboard: %s counted in %.2f s", key, row["seconds"])
        return True

    @in_app
    def _dashboard_recount(key):
        return _count_dashboard(key)

    @in_app
    def _dashboard_refresh():
        from webapp.core.database import write_retrying
        from webapp.results.dashboard.snapshots import prune_snapshots

        keys = write_retrying(lambda: prune_snapshots(app.config["BABEL_DEFAULT_TIMEZONE"]))
        return sum(_count_dashboard(key) for key in keys)

    @in_app
    def _statistics():
        from webapp.core.database import refresh_statistics

        if refresh_statistics(db.session):
            db.session.commit()
            log.info("database statistics refreshed")

    sh, sm = _hour_minute(app.config.get("JOBS_STATISTICS_AT") or "03:30")
    dh, dm = _hour_minute(app.config.get("JOBS_DIGEST_AT") or "08:00")
    gh, gm = _hour_minute(app.config.get("JOBS_RECURRING_AT") or "06:00")
    gday = str(int(app.config.get("JOBS_RECURRING_DAY") or 25))
    wh, wm = _hour_minute(app.config.get("JOBS_WARNINGS_AT"))
    oh, om = _hour_minute(app.config.get("JOBS_REMINDERS_AT"))
    rh, rm = _hour_minute(app.config.get("JOBS_RENDITIONS_AT"))
    return {
        "deliver_outbox": huey.task(name="deliver_outbox")(_deliver),
        "deliver_outbox_periodic": huey.periodic_task(crontab(minute="*"), name="deliver_outbox_periodic")(_deliver),
        "warnings_check": huey.periodic_task(local_crontab(tz, hour=wh, minute=wm), name="warnings_check")(_warnings),
        "overdue_reminders": huey.periodic_task(local_crontab(tz, hour=oh, minute=om),
                                                name="overdue_reminders")(_overdue),
        "photo_renditions": huey.periodic_task(local_crontab(tz, hour=rh, minute=rm),
                                               name="photo_renditions")(_renditions),
        "run_export": huey.task(name="run_export")(_export),
        "export_cleanup": huey.periodic_task(crontab(minute="17"), name="export_cleanup")(_export_cleanup),
        "daily_digest": huey.periodic_task(local_crontab(tz, hour=dh, minute=dm), name="daily_digest")(_digests),
        "database_statistics": huey.periodic_task(local_crontab(tz, hour=sh, minute=sm),
                                                  name="database_statistics")(_statistics),
        "dashboard_recount": huey.task(name="dashboard_recount")(_dashboard_recount),
        "dashboard_refresh": huey.periodic_task(crontab(minute=f"*/{max(1, int(app.config.get('DASHBOARD_REFRESH_MINUTES') or 5))}"),
                                                name="dashboard_refresh")(_dashboard_refresh),
        "recurring_visits": huey.periodic_task(local_crontab(tz, day=gday, hour=gh, minute=gm),
                                               name="recurring_visits")(_recurring),
    }
