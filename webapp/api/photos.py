"""Photo evidence over /api/v1 (sync-protocol.md, "Photos"): HEAD/PUT/GET /photos/{sha256}."""

import hashlib
import io
from datetime import UTC, datetime

from flask import Response, current_app, jsonify, request, send_file
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from webapp.api import bp
from webapp.core.errors import api_error
from webapp.evidence.operations import parse_device_time, record_photo_evidence
from webapp.evidence.watermark import watermarked_display
from webapp.extensions import db
from webapp.photos import ingest
from webapp.photos.models import Photo
from webapp.photos.operations import (
    find_stored_photo,
    is_sha256,
    may_download_original,
    photo_visible_to,
    read_rendition,
    record_upload,
    rejection_message,
    storage_failure,
    store_upload,
)
from webapp.photos.storage import ObjectMissing, StorageError, get_store

CHUNK = 256 * 1024
GET_VARIANTS = ("thumb", "display", "original")
# Content never changes under its hash; "private" because every GET is access-checked.
CACHE_CONTROL = "private, max-age=31536000, immutable"


def _reject(status: int, code: str):
    return api_error(status, code, rejection_message(code))


def _storage_error(e: StorageError):
    return _reject(*storage_failure(e))


def _read_body(limit: int):
    """The request body and its SHA-256, reading at most `limit` + 1 bytes; None if it is larger.
    A declared Content-Length over the limit is refused before anything is read."""
    if request.content_length is not None and request.content_length > limit:
        return None, None
    stream = request.stream
    buf = io.BytesIO()
    digest = hashlib.sha256()
    while True:
        chunk = stream.read(min(CHUNK, limit + 1 - buf.tell()))
        if not chunk:
            break
        buf.write(chunk)
        digest.update(chunk)
        if buf.tell() > limit:
            return None, None
    return buf.getvalue(), digest.hexdigest()


def _photo_json(photo):
    return {
        "sha256": photo.sha256,
        "size": photo.size,
        "content_type": photo.content_type,
        "width": photo.width,
        "height": photo.height,
        "captured_at": photo.captured_at.isoformat() if photo.captured_at else None,
        "lat": photo.lat,
        "lng": photo.lng,
        "variants": sorted(photo.variants or {}),
    }


@bp.put("/photos/<sha256>")
@login_required
def put_photo(sha256):
    received = datetime.now(UTC)
    sha = sha256.lower()
    if not is_sha256(sha):
        return api_error(400, "bad_hash", _("The address must end in the photo's SHA-256 (64 hexadecimal digits)."))
    data, actual = _read_body(current_app.config["MAX_PHOTO_BYTES"])
    if data is None:
        return _reject(413, "too_large")
    if actual != sha:
        return _reject(400, "hash_mismatch")
    try:
        photo = find_stored_photo(sha)
        if photo is not None:
            return jsonify(_photo_json(photo)), 200
        # Nothing written yet: end the transaction so SQLite's write lock is not held while decoding.
        db.session.rollback()
        upload = store_upload(data, sha)
    except ingest.PhotoRejected as e:
        return _reject(e.status, e.code)
    except StorageError as e:
        db.session.rollback()
        return _storage_error(e)
    try:
        photo, created = record_upload(upload, current_user)
        if created:  # trusted time: the EXIF capture time against this device's clock
            record_photo_evidence(photo, current_user, parse_device_time(request.headers.get("X-Device-Time")),
                                  received)
        body = _photo_json(photo)
        db.session.commit()
    except IntegrityError:  # a concurrent upload of the same photo won the race: same bytes, same key
        db.session.rollback()
        photo = find_stored_photo(sha)
        if photo is None:  # XXX: should not happen (the winner committed); the phone retries
            return api_error(409, "conflict", _("That conflicts with the current state."))
        return jsonify(_photo_json(photo)), 200
    return jsonify(body), 201 if created else 200


@bp.route("/photos/<sha256>", methods=["GET", "HEAD"])
@login_required
def get_photo(sha256):
    sha = sha256.lower()
    if request.method == "HEAD" and "variant" not in request.args:
        # The contract's existence check, before an upload. Knowing a photo's hash means holding
        # the photo, so answering it tells nothing; the bytes themselves are access-checked.
        try:
            stored = is_sha256(sha) and find_stored_photo(sha) is not None
        except StorageError as e:
            storage_failure(e)
            return Response(status=503)
        if not stored:
            return Response(status=404)
        return Response(status=200, headers={"ETag": f'"{sha}"'})
    variant = request.args.get("variant", "display")
    if variant not in GET_VARIANTS:
        return api_error(400, "bad_variant", _("Unknown variant: use thumb, display or original."))
    if not is_sha256(sha) or not photo_visible_to(current_user, sha):
        return api_error(404, "not_found", _("Not found, or not yours to see."))
    if variant == "original" and not may_download_original(current_user):
        return api_error(403, "forbidden", _("Only management can download the original photo."))
    return photo_response(db.session.get(Photo, sha), variant)


def photo_response(photo, variant: str) -> Response:
    """The bytes of one rendition (or the original), with its immutable ETag; the caller has checked
    access. Renditions were made at upload: nothing is decoded here."""
    sha = photo.sha256
    if variant == "display":
        # The evidence card: the display rendition carries a visible watermark once the photo has a
        # record (made on first request, then cached; webapp/evidence/watermark.py).
        try:
            marked = watermarked_display(photo)
        except StorageError as e:
            return _storage_error(e)
        if marked is not None:
            blob, tag = marked
            etag = f"{sha}.{tag}"
            # Not immutable: the same address shows a new watermark if the record's context changes.
            headers = {"ETag": f'"{etag}"', "Cache-Control": "private, no-cache"}
            if request.if_none_match.contains(etag):
                return Response(status=304, headers=headers)
            resp = Response(blob, mimetype=ingest.RENDITION_TYPE)
            resp.headers.update(headers)
            return resp
    etag = f"{sha}.{variant}"
    headers = {"ETag": f'"{etag}"', "Cache-Control": CACHE_CONTROL}
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    mimetype = photo.content_type if variant == "original" else ingest.RENDITION_TYPE
    path = get_store().local_path(sha) if variant == "original" else None
    if path is not None:  # originals can be large: let the server stream the file
        resp = send_file(path, mimetype=mimetype, etag=False, conditional=False, max_age=None)
    else:
        try:
            resp = Response(read_rendition(photo, variant), mimetype=mimetype)
        except ObjectMissing:
            return api_error(404, "not_found", _("Not found, or not yours to see."))
        except StorageError as e:
            return _storage_error(e)
    resp.headers.update(headers)
    if variant == "original":
        ext = ingest.EXTENSIONS.get(photo.content_type, "bin")
        resp.headers["Content-Disposition"] = f'attachment; filename="{sha}.{ext}"'
    return resp
