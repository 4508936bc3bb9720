"""Import an "export unsynced data" file from the phone app: its photos, then its mutations through
the ordinary push (same merge rules, same idempotency: importing a file twice applies nothing twice).

In three steps, so that the write transaction (on SQLite the one write lock every other user's
sign-in waits for) never waits for a photo decode: `import_author` reads, `store_import_photos`
decodes and stores the photos with no transaction open for writing (content-addressed bytes
stored before a commit that then fails are a harmless orphan, swept by `flask photos orphans`),
and `apply_import` writes the records. The view runs the last one with `write_retrying`.
"""

import base64
import binascii
import hashlib

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from webapp.auth.models import User
from webapp.extensions import db
from webapp.photos import ingest
from webapp.photos.operations import Upload, find_stored_photo, is_sha256, record_upload, store_upload
from webapp.sync_store.operations import push_mutations


class ImportRefused(Exception):
    """The file may not be imported by this user (HTTP 403)."""


def import_author(user, doc: dict):
    """Who recorded the file. The mutations are applied as that user: they may import their own
    file; an administrator may import anyone's."""
    if doc["user_id"] and doc["user_id"] != user.id:
        if user.role != "admin":
            raise ImportRefused(_("This file holds another user's records; only an administrator may import it."))
        author = db.session.get(User, doc["user_id"])
        if author is None:
            raise ImportRefused(_("The user who recorded this file no longer exists."))
        return author
    return user


def store_import_photos(doc: dict) -> tuple[dict[str, str], list[Upload]]:
    """Check, decode and store the file's photos; writes no database record. Returns each photo's
    status so far ("present", or why it was refused) and the uploads left to record. Raises
    StorageError when the store fails."""
    statuses: dict[str, str] = {}
    uploads: list[Upload] = []
    for p in doc["photos"]:
        sha = p["sha256"].lower()
        status, upload = _store_photo(sha, p["data_base64"])
        statuses[p["sha256"]] = status
        if upload is not None:
            uploads.append(upload)
    return statuses, uploads


def _store_photo(sha: str, data_base64: str) -> tuple[str, Upload | None]:
    if not is_sha256(sha):
        return "bad_hash", None
    try:
        data = base64.b64decode(data_base64, validate=True)
    except (binascii.Error, ValueError):
        return "bad_base64", None
    if hashlib.sha256(data).hexdigest() != sha:
        return "hash_mismatch", None
    if find_stored_photo(sha) is not None:
        return "present", None
    try:
        return "stored", store_upload(data, sha)
    except ingest.PhotoRejected as e:
        return e.code, None


def apply_import(user, author, doc: dict, statuses: dict[str, str], uploads: list[Upload]) -> dict:
    """The photo records, then the mutations as `author`. Flushes, never commits; safe to run
    again after a rollback (it changes none of its arguments)."""
    photos = dict(statuses)
    for upload in uploads:
        try:
            with db.session.begin_nested():
                record_upload(upload, user)
        except IntegrityError:  # the same photo, recorded meanwhile by a concurrent upload
            photos[upload.sha256] = "present"
    results = push_mutations(author, str(doc["device_id"]), doc["mutations"])
    return {"photos": photos, "results": results}
