"""Import an "export unsynced data" file from the phone app: its photos, then its mutations through
the ordinary push (same merge rules, same idempotency: importing a file twice applies nothing twice)."""

import base64
import binascii
import hashlib

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from webapp.auth.models import User
from webapp.extensions import db
from webapp.photos import ingest
from webapp.photos.operations import find_stored_photo, is_sha256, process_upload, save_photo
from webapp.sync_store.operations import push_mutations


class ImportRefused(Exception):
    """The file may not be imported by this user (HTTP 403)."""


def import_unsynced(user, doc: dict) -> dict:
    """`doc` is a loaded ImportArgs. The mutations are applied as the user who recorded them: that
    user may import their own file; an administrator may import anyone's. Flushes, never commits."""
    author = user
    if doc["user_id"] and doc["user_id"] != user.id:
        if user.role != "admin":
            raise ImportRefused(_("This file holds another user's records; only an administrator may import it."))
        author = db.session.get(User, doc["user_id"])
        if author is None:
            raise ImportRefused(_("The user who recorded this file no longer exists."))
    photos = {}
    for p in doc["photos"]:
        photos[p["sha256"]] = _import_photo(p, user)
    results = push_mutations(author, str(doc["device_id"]), doc["mutations"])
    return {"photos": photos, "results": results}


def _import_photo(p: dict, user) -> str:
    sha = p["sha256"].lower()
    if not is_sha256(sha):
        return "bad_hash"
    try:
        data = base64.b64decode(p["data_base64"], validate=True)
    except (binascii.Error, ValueError):
        return "bad_base64"
    if hashlib.sha256(data).hexdigest() != sha:
        return "hash_mismatch"
    if find_stored_photo(sha) is not None:
        return "present"
    try:
        processed = process_upload(data)
    except ingest.PhotoRejected as e:
        return e.code
    try:
        with db.session.begin_nested():
            save_photo(sha, data, processed, user)
    except IntegrityError:
        return "present"
    return "stored"
