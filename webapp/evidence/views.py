"""The public verify page: anyone may upload a file and learn whether it is a stored original.

Anonymous visitors learn only "match" (with the capture date) or "no match"; a signed-in user who
may see the photo also learns the site and the time. Rate limited per address (VERIFY_LIMIT)."""

import hashlib

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user

from webapp.evidence.watermark import watermark_context
from webapp.extensions import db, limiter
from webapp.photos import ingest
from webapp.photos.models import Photo
from webapp.photos.operations import photo_visible_to, process_upload, rejection_message

bp = Blueprint("evidence", __name__)
CHUNK = 256 * 1024


@bp.errorhandler(RateLimitExceeded)
def _throttled(_e):
    return render_template("evidence/verify.html", error=_("Too many checks from your address. Wait a few minutes "
                                                           "and try again.")), 429


def _read_upload(storage, limit: int) -> bytes | None:
    """At most `limit` bytes of the uploaded file, or None when it is larger."""
    data = storage.stream.read(limit + 1)
    return None if len(data) > limit else data


def check_file(data: bytes) -> tuple[int, dict]:
    """(HTTP status, what the page shows) for an uploaded file's bytes. Never raises."""
    sha = hashlib.sha256(data).hexdigest()
    photo = db.session.get(Photo, sha)
    if photo is None:
        # Not stored: say why when it is not even a photo (the ingest path's own checks).
        try:
            process_upload(data)
        except ingest.PhotoRejected as e:
            return e.status, {"error": rejection_message(e.code)}
        except Exception:  # noqa: BLE001  hostile input: a 4xx, never a 500
            current_app.logger.info("verify: unreadable upload", exc_info=True)
            return 422, {"error": rejection_message("corrupt_image")}
        return 200, {"match": False, "sha256": sha}
    out = {"match": True, "sha256": sha, "date": photo.captured_at or photo.uploaded_at}
    if photo_visible_to(current_user, sha):
        ctx = watermark_context(photo)
        out["site"] = ctx["site"] if ctx else None
        out["detail"] = True
    return 200, out


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("VERIFY_LIMIT", "20 per 15 minutes"), methods=["POST"])
def verify():
    if request.method == "GET":
        return render_template("evidence/verify.html")
    storage = request.files.get("file")
    if storage is None or not storage.filename:
        return render_template("evidence/verify.html", error=_("Choose a file to check.")), 400
    data = _read_upload(storage, current_app.config["MAX_PHOTO_BYTES"])
    if data is None:
        return render_template("evidence/verify.html", error=rejection_message("too_large")), 413
    if not data:
        return render_template("evidence/verify.html", error=rejection_message("not_an_image")), 415
    status, result = check_file(data)
    return render_template("evidence/verify.html", result=result if "error" not in result else None,
                           error=result.get("error")), status


@bp.app_context_processor
def _evidence_helpers():
    """What the evidence includes (templates/photos/_evidence.html, evidence/_visit.html) ask for,
    so the pages that include them need no change to their views."""
    from webapp.evidence.operations import photo_evidence, record_clock, rectification_photos, visit_evidence

    return {"photo_evidence_items": lambda finding: photo_evidence(finding.photos, finding=finding),
            "record_clock": record_clock, "visit_evidence": visit_evidence,
            "rectification_photos": rectification_photos,
            "marked_up": lambda finding, sha: bool((finding.markup or {}).get(sha))}


@bp.app_template_filter("signature_time")
def _signature_time(value):
    """A signature's time (ISO 8601 text in the record) in the reader's zone and format."""
    from datetime import datetime

    from flask_babel import format_datetime

    try:
        return format_datetime(datetime.fromisoformat(str(value)), "short")
    except (TypeError, ValueError):
        return "—"
