"""Photo use cases: store an upload, serve a rendition, decide who may see a photo, find orphans.

Operations flush and never commit; the request or command commits.
"""

import re
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import String, cast, select

from webapp.authz import EVERYTHING, scoped
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.photos import ingest
from webapp.photos.models import Photo
from webapp.photos.storage import get_store
from webapp.rectification.models import RectificationUpdate
from webapp.visits.models import ChecklistAnswer

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# Every record type that refers to photos by sha256 in a JSON list field `photos`.
REFERRING = (Finding, ChecklistAnswer, RectificationUpdate)


def is_sha256(value: str) -> bool:
    return bool(SHA256_RE.match(value or ""))


def variant_key(sha: str, variant: str) -> str:
    return sha if variant == "original" else f"{sha}.{variant}.jpg"


# ---- upload -----------------------------------------------------------------------------------

def find_stored_photo(sha: str) -> Photo | None:
    """The photo if both its record and its original bytes are stored (what HEAD answers)."""
    photo = db.session.get(Photo, sha)
    if photo is None or not get_store().exists(sha):
        return None
    return photo


def process_upload(data: bytes) -> ingest.Processed:
    """Validate and render; raises ingest.PhotoRejected. Touches neither the store nor the DB."""
    cfg = current_app.config
    return ingest.process(data, max_pixels=cfg.get("MAX_PHOTO_PIXELS", ingest.DEFAULT_MAX_PIXELS),
                          default_tz=cfg.get("BABEL_DEFAULT_TIMEZONE", "UTC"))


def save_photo(sha: str, data: bytes, processed: ingest.Processed, user) -> tuple[Photo, bool]:
    """Write renditions, then the original, then the record, so the record never points at
    missing bytes. Each object is written atomically under its content hash, so two concurrent
    uploads of one photo write identical bytes and the database's primary key keeps one record
    (the loser's flush or commit raises IntegrityError: the caller answers "already there").
    Returns (photo, created)."""
    store = get_store()
    variants = {}
    for name, blob in processed.renditions.items():
        key = variant_key(sha, name)
        store.put(key, blob)
        variants[name] = key
    store.put(sha, data)
    photo = db.session.get(Photo, sha)
    if photo is not None:  # the record survived but its bytes had gone: they are back now
        photo.variants = variants
        return photo, False
    photo = Photo(sha256=sha, size=len(data), content_type=processed.content_type, width=processed.width,
                  height=processed.height, captured_at=processed.captured_at, lat=processed.lat,
                  lng=processed.lng, variants=variants, uploaded_by=getattr(user, "id", None),
                  uploaded_at=datetime.now(UTC))
    db.session.add(photo)
    db.session.flush()
    return photo, True


def missing_photos(shas) -> list[str]:
    """Which of a record's photo hashes the server has not stored yet, for the sync push result's
    `missing_photos` (sync-protocol.md). Records are written after the bytes, so a record means
    the photo is complete."""
    wanted = sorted({s for s in shas or [] if isinstance(s, str)})
    if not wanted:
        return []
    have = set(db.session.scalars(select(Photo.sha256).where(Photo.sha256.in_(wanted))))
    return [s for s in wanted if s not in have]


# ---- download ---------------------------------------------------------------------------------

def ensure_rendition(photo: Photo, variant: str) -> str:
    """The store key of `variant`, rendering it now (and keeping it) if it is missing, e.g. for
    photos stored before renditions existed. The database is not touched: keys are derived."""
    key = variant_key(photo.sha256, variant)
    if variant == "original":
        return key
    store = get_store()
    if not store.exists(key):
        processed = process_upload(store.get(photo.sha256))
        for name, blob in processed.renditions.items():
            store.put(variant_key(photo.sha256, name), blob)
    return key


def rendition_size(photo: Photo, variant: str) -> tuple[int, int] | None:
    """Width and height of a rendition (for <img width height>), from the shown size."""
    if not photo.width or not photo.height:
        return None
    if variant == "original":
        return photo.width, photo.height
    return ingest.fit((photo.width, photo.height), ingest.VARIANTS[variant])


def may_download_original(user) -> bool:
    return getattr(user, "role", None) in EVERYTHING


# ---- who may see a photo ----------------------------------------------------------------------

def _refers_to(model, sha: str):
    # The sha is 64 hex digits (checked by the caller), so `"sha"` inside the JSON text matches a
    # whole list element exactly, with no LIKE wildcards, on SQLite and PostgreSQL alike.
    return cast(model.photos, String).like(f'%"{sha}"%')


def is_referenced(sha: str) -> bool:
    """Does any record (of anyone, deleted or not) refer to the photo?"""
    return any(
        db.session.execute(select(model.id).where(_refers_to(model, sha)).limit(1)).first() is not None
        for model in REFERRING
    )


def photo_visible_to(user, sha: str) -> bool:
    """THE access rule for photos: a user sees a photo if they can see a record that refers to
    it. The uploader also sees a photo that no record refers to yet (a phone uploads before or
    after it pushes the record)."""
    if user is None or not getattr(user, "is_authenticated", False) or not is_sha256(sha):
        return False
    photo = db.session.get(Photo, sha)
    if photo is None:
        return False
    if user.role in EVERYTHING:
        return True
    for model in REFERRING:
        q = scoped(model, user).with_only_columns(model.id).where(_refers_to(model, sha)).limit(1)
        if db.session.execute(q).first() is not None:
            return True
    return photo.uploaded_by == user.id and not is_referenced(sha)


def photos_for_gallery(shas: list[str]) -> list[Photo]:
    """Photo records for a record's `photos` list, in its order (unknown hashes skipped)."""
    wanted = [s for s in shas or [] if is_sha256(s)]
    if not wanted:
        return []
    found = {p.sha256: p for p in db.session.scalars(select(Photo).where(Photo.sha256.in_(wanted)))}
    return [found[s] for s in wanted if s in found]


def gallery_items(shas: list[str], user) -> list[dict]:
    """What the evidence gallery shows for a record the user can see (so they see its photos)."""
    original = may_download_original(user)
    return [{"photo": p, "thumb_size": rendition_size(p, "thumb"), "original": original}
            for p in photos_for_gallery(shas)]


# ---- orphans ----------------------------------------------------------------------------------

def referenced_hashes() -> set[str]:
    """Every sha256 any record refers to, soft-deleted records included (evidence is kept)."""
    refs: set[str] = set()
    for model in REFERRING:
        for photos in db.session.scalars(select(model.photos).where(model.photos.is_not(None))):
            refs.update(p for p in photos or [] if isinstance(p, str))
    return refs


def list_orphans(older_than_days: int = 7) -> list[Photo]:
    """Photos no record refers to, uploaded more than `older_than_days` ago (the grace period
    leaves time for a phone that uploaded its photos to push the record)."""
    cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
    refs = referenced_hashes()
    candidates = db.session.scalars(select(Photo).where(Photo.uploaded_at < cutoff).order_by(Photo.uploaded_at))
    return [p for p in candidates if p.sha256 not in refs]


def purge_orphans(orphans: list[Photo]) -> list[str]:
    """Delete the given orphans' records (flush). Re-checks references first, so a photo a record
    has picked up in the meantime is kept. Returns the store keys the caller deletes after commit."""
    refs = referenced_hashes()
    keys: list[str] = []
    for photo in orphans:
        if photo.sha256 in refs:
            continue
        keys.extend([photo.sha256, *(variant_key(photo.sha256, v) for v in ingest.VARIANTS)])
        db.session.delete(photo)
    db.session.flush()
    return keys


def delete_objects(keys: list[str]) -> None:
    store = get_store()
    for key in keys:
        store.delete(key)
