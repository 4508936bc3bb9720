"""Export jobs: ask for one (a row, then the queue), make it (the worker), hand out the file, clean up.

One code path: the page asks, a worker makes the file with the same builder the direct download
uses (webapp/core/exports.py `ExportFile`). When the queue runs in immediate mode (HUEY_IMMEDIATE,
a single-process install without a worker) the job runs inside the request and the progress page
opens on a finished export.
"""

import logging
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select, update

from webapp.auth.models import User
from webapp.core.database import sqlite_reading
from webapp.core.exports import ExportError
from webapp.core.models import utcnow
from webapp.exports.kinds import BUILDERS, builder
from webapp.exports.models import ExportJob
from webapp.extensions import db
from webapp.photos.storage import StorageError, get_store

log = logging.getLogger("webapp.exports")
STALE_RUNNING = timedelta(hours=2)  # a job "running" this long lost its worker


class UnknownKind(ValueError):
    pass


def create_export(user, kind: str, params: dict, locale: str) -> ExportJob:
    """The job row (flush; the view commits, then enqueues)."""
    if kind not in BUILDERS:
        raise UnknownKind(kind)
    job = ExportJob(user_id=user.id, kind=kind, params=dict(params or {}), locale=locale, status="queued",
                    progress=0)
    db.session.add(job)
    db.session.flush()
    return job


def enqueue_export(app, job_id: str) -> bool:
    """Hand the (committed) job to the queue. False when the queue cannot be reached: the job is
    then marked failed with a sentence saying so."""
    from webapp.jobs import ask_queue

    if ask_queue(app, "run_export", job_id):
        return True
    # the row is committed; the person sees why nothing happens
    db.session.execute(update(ExportJob).where(ExportJob.id == job_id, ExportJob.status == "queued")
                       .values(status="failed", error="queue_unavailable", finished_at=utcnow()))
    db.session.commit()
    return False


def _set_progress(job_id: str, percent: int) -> None:
    """Progress from inside a running build, on a connection of its own (the build's session is
    streaming rows and must not commit). Best effort: a busy database skips one update."""
    try:
        with sqlite_reading(False), db.engine.begin() as conn:
            conn.execute(update(ExportJob).where(ExportJob.id == job_id, ExportJob.status == "running")
                         .values(progress=max(0, min(99, int(percent)))))
    except Exception:  # noqa: BLE001
        log.debug("export %s: progress update skipped", job_id, exc_info=True)


def ttl() -> timedelta:
    return timedelta(hours=float(current_app.config.get("EXPORT_TTL_HOURS") or 24))


def run_export(job_id: str) -> str:
    """Make the file of a queued job (the worker's task). Returns the job's final status. A job
    that is not queued (already made, or a duplicate delivery of the task) is left alone."""
    claimed = db.session.execute(update(ExportJob).where(ExportJob.id == job_id, ExportJob.status == "queued")
                                 .values(status="running", started_at=utcnow(), progress=1))
    db.session.commit()
    job = db.session.get(ExportJob, job_id)
    if job is None or claimed.rowcount != 1:
        return job.status if job else "missing"
    user = db.session.get(User, job.user_id)
    last = [0]

    def progress(percent: int) -> None:
        if percent >= last[0] + 5:
            last[0] = percent
            _set_progress(job_id, percent)

    key = None
    try:
        if user is None or not user.active:
            raise ExportError("denied")
        kind, params, locale = job.kind, dict(job.params or {}), job.locale
        db.session.commit()  # the build reads in a transaction of its own, a read-only one on SQLite,
        try:  # so the progress updates beside it need not wait for its lock
            with sqlite_reading(), current_app.test_request_context("/"), force_locale(locale):
                made = builder(kind)(user, params, progress)
        finally:
            db.session.rollback()
        key = f"export-{job_id}-{secrets.token_hex(8)}"
        get_store().put(key, made.data)
    except ExportError as e:
        return _fail(job_id, e.code)
    except StorageError:
        log.warning("export %s: the file could not be stored", job_id, exc_info=True)
        return _fail(job_id, "storage")
    except Exception:
        log.exception("export %s failed", job_id)
        return _fail(job_id, "failed")
    now = utcnow()
    db.session.rollback()
    db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(
        status="done", progress=100, file_key=key, filename=made.filename, mimetype=made.mimetype,
        size=len(made.data), finished_at=now, expires_at=now + ttl()))
    db.session.commit()
    return "done"


def _fail(job_id: str, code: str) -> str:
    db.session.rollback()
    db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(
        status="failed", error=code, finished_at=utcnow()))
    db.session.commit()
    return "failed"


def read_export(job: ExportJob) -> bytes:
    """The file's bytes; raises StorageError (ObjectMissing when the cleanup removed it)."""
    return get_store().get(job.file_key)


def my_exports(user, limit: int = 50) -> list[ExportJob]:
    return list(db.session.scalars(select(ExportJob).where(ExportJob.user_id == user.id)
                                   .order_by(ExportJob.created_at.desc()).limit(limit)))


def cleanup_exports(now=None) -> tuple[int, int]:
    """Remove expired files (their rows stay, as expired) and fail jobs whose worker died.
    Returns (expired, interrupted). Commits nothing: the caller commits."""
    now = now or utcnow()
    expired = 0
    for job in db.session.scalars(select(ExportJob).where(ExportJob.status == "done", ExportJob.expires_at <= now)):
        if job.file_key:
            try:
                get_store().delete(job.file_key)
            except StorageError:
                log.warning("export %s: could not remove %s; trying again next time", job.id, job.file_key)
                continue
        job.status, job.file_key = "expired", None
        expired += 1
    interrupted = db.session.execute(
        update(ExportJob).where(ExportJob.status.in_(("running", "queued")),
                                ExportJob.created_at <= now - STALE_RUNNING)
        .values(status="failed", error="interrupted", finished_at=now)).rowcount
    db.session.flush()
    return expired, interrupted or 0
