"""Export pages: ask for an export (POST, then the progress page), watch it (htmx polls the status
every second until it is finished), download the file, and "My exports"."""

import re

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from webapp.authz import can, get_scoped_or_404
from webapp.core.views import is_htmx
from webapp.exports import operations as ops
from webapp.exports.kinds import error_label, kind_label, status_label
from webapp.exports.models import ExportJob
from webapp.extensions import db
from webapp.i18n import current_locale_code
from webapp.photos.storage import ObjectMissing, StorageError

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
bp = Blueprint("exports", __name__, url_prefix="/exports")


@bp.context_processor
def _labels():
    return {"kind_label": kind_label, "error_label": error_label, "status_label": status_label}


def _base_url() -> str:
    return (current_app.config.get("PUBLIC_URL") or request.url_root).rstrip("/")


def _start(kind: str, params: dict):
    job = ops.create_export(current_user, kind, params, current_locale_code())
    job_id = job.id
    db.session.commit()
    ops.enqueue_export(current_app._get_current_object(), job_id)
    return redirect(url_for(".progress", job_id=job_id), 303)


@bp.post("/findings")
@login_required
def findings():
    """The findings list's export, with the list's filters (the form repeats them)."""
    from webapp.findings.export import export_params

    return _start("findings_xlsx", {**export_params(request.form), "base_url": _base_url()})


@bp.post("/reports/<report_id>")
@login_required
def report(report_id):
    from webapp.reports.pdf import visible_report

    if visible_report(current_user, report_id) is None:
        abort(404)
    return _start("report_pdf", {"report_id": report_id})


def _job(job_id) -> ExportJob:
    if not UUID_RE.fullmatch(job_id or ""):  # a guessed or hostile id: the same 404 as another's
        abort(404)
    job = get_scoped_or_404(ExportJob, job_id, current_user)
    if not can(current_user, "export.download", job):
        abort(404)
    return job


@bp.get("/")
@login_required
def index():
    return render_template("exports/index.html", jobs=ops.my_exports(current_user))


@bp.get("/<job_id>")
@login_required
def progress(job_id):
    job = _job(job_id)
    if is_htmx():
        return render_template("exports/_status.html", job=job)
    return render_template("exports/progress.html", job=job)


@bp.get("/<job_id>/file")
@login_required
def download(job_id):
    job = _job(job_id)
    if job.status == "expired":
        return render_template("exports/progress.html", job=job), 410
    if job.status != "done" or not job.file_key:
        return redirect(url_for(".progress", job_id=job.id), 303)
    try:
        data = ops.read_export(job)
    except ObjectMissing:
        return render_template("exports/progress.html", job=job, missing=True), 410
    except StorageError:
        abort(503)
    import io

    response = send_file(io.BytesIO(data), mimetype=job.mimetype, as_attachment=True, download_name=job.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response
