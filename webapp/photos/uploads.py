"""Photos uploaded through a web form (rectification evidence): checked with Pillow, stored by hash."""

import hashlib
import io

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from webapp.extensions import db
from webapp.photos.models import Photo
from webapp.photos.storage import get_store

ALLOWED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class BadUpload(ValueError):
    pass


def store_uploaded_photo(data: bytes, user) -> str:
    """Validate and store one image; returns its SHA-256. Idempotent for the same bytes."""
    if len(data) > current_app.config["MAX_PHOTO_BYTES"]:
        raise BadUpload(_("The photo is too large."))
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, (w, h) = img.format, img.size
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise BadUpload(_("That file is not a photo we can read (JPEG, PNG or WebP).")) from None
    if fmt not in ALLOWED:
        raise BadUpload(_("That file is not a photo we can read (JPEG, PNG or WebP)."))
    sha = hashlib.sha256(data).hexdigest()
    if db.session.get(Photo, sha) is None:
        get_store().put(sha, data)
        db.session.add(Photo(sha256=sha, size=len(data), content_type=ALLOWED[fmt], width=w, height=h,
                             uploaded_by=user.id, variants={}))
        db.session.flush()
    return sha
