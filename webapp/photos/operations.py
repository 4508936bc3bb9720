"""Photo use cases: ingest an upload, serve a rendition, decide who may see a photo, find orphans.

Every upload — the API's PUT, the phone-export import, the desk forms (rectification progress,
plan note attachments) — goes through `store_upload` (validate, decode once, make the renditions,
write the bytes) and `record_upload` (the database record). The first touches no database, so
callers run it before their write transaction; the second flushes and never commits.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, exists, literal, or_, select

from webapp.authz import EVERYTHING, scope_clause
from webapp.extensions import db
from webapp.photos import ingest
from webapp.photos.models import Photo, PhotoRef
from webapp.photos.refs import PLAN_NOTE, REFERRING
from webapp.photos.storage import ObjectMissing, StorageError, StorageFull, get_store
from webapp.plans.models import Plan, PlanNote

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def is_sha256(value: str) -> bool:
    return bool(SHA256_RE.match(value or ""))


def variant_key(sha: str, variant: str) -> str:
    return sha if variant == "original" else f"{sha}.{variant}.jpg"


# ---- messages ---------------------------------------------------------------------------------

def rejection_message(code: str) -> str:
    """What a refused upload (ingest.PhotoRejected.code) or a storage failure tells the user."""
    limit_mb = current_app.config["MAX_PHOTO_BYTES"] / (1024 * 1024)
    return {
        "too_large": _("The photo is larger than %(limit)s MB.", limit=f"{limit_mb:g}"),
        "too_many_pixels": _("The photo has too many pixels to be processed safely."),
        "hash_mismatch": _("The photo was damaged on the way: its content does not match its SHA-256. Upload it again."),
        "not_an_image": _("That file is not a photo. Upload a JPEG, PNG, WebP or HEIC image."),
        "unsupported_format": _("That image format is not supported. Upload a JPEG, PNG, WebP or HEIC image."),
        "corrupt_image": _("The photo is damaged or incomplete and cannot be read."),
        "storage_full": _("The photo storage is full, so nothing was saved. Please tell an administrator."),
        "storage_unavailable": _("The photo storage cannot be reached right now, so nothing was saved. "
                                 "Please try again later."),
    }.get(code) or _("The content could not be processed.")


def storage_failure(e: StorageError) -> tuple[int, str]:
    """HTTP status and code for a storage failure: 507 when full, 503 otherwise."""
    current_app.logger.error("photo storage: %s", e)
    return (507, "storage_full") if isinstance(e, StorageFull) else (503, "storage_unavailable")


# ---- upload -----------------------------------------------------------------------------------

@dataclass
class Upload:
    """A validated upload whose bytes and renditions are in the store (no database record yet)."""

    sha256: str
    size: int
    processed: ingest.Processed


def find_stored_photo(sha: str) -> Photo | None:
    """The photo if both its record and its original bytes are stored (what HEAD answers)."""
    photo = db.session.get(Photo, sha)
    if photo is None or not get_store().exists(sha):
        return None
    return photo


def process_upload(data: bytes) -> ingest.Processed:
    """Validate and render; raises ingest.PhotoRejected. Touches neither the store nor the DB."""
    cfg = current_app.config
    if len(data) > cfg["MAX_PHOTO_BYTES"]:
        raise ingest.PhotoRejected(413, "too_large", f"{len(data)} bytes")
    return ingest.process(data, max_pixels=cfg.get("MAX_PHOTO_PIXELS", ingest.DEFAULT_MAX_PIXELS),
                          default_tz=cfg.get("BABEL_DEFAULT_TIMEZONE", "UTC"), backend=cfg.get("PHOTO_BACKEND"))


def store_photo_bytes(sha: str, data: bytes, processed: ingest.Processed) -> dict[str, str]:
    """Write the renditions, then the original, each atomically under its content hash (so two
    concurrent uploads of one photo write identical bytes). If the store fails (full disk,
    refused), the objects this call created are removed again and the StorageError propagates:
    nothing half-written is left. Returns variant → key."""
    store = get_store()
    variants = {name: variant_key(sha, name) for name in processed.renditions}
    created: list[str] = []
    try:
        for name, blob in processed.renditions.items():
            created.extend(_put_new(store, variants[name], blob))
        created.extend(_put_new(store, sha, data))
    except StorageError:
        for key in created:
            try:
                store.delete(key)
            except StorageError:  # XXX: left for `flask photos orphans`-style cleanup; content-addressed
                current_app.logger.warning("photo storage: could not remove %s after a failed upload", key)
        raise
    return variants


def _put_new(store, key: str, blob: bytes) -> list[str]:
    existed = store.exists(key)
    store.put(key, blob)
    return [] if existed else [key]


def store_upload(data: bytes, sha: str | None = None) -> Upload:
    """Validate, decode once, render and store the bytes; raises ingest.PhotoRejected or
    StorageError. No database access: run it before the write transaction (content-addressed
    bytes stored before a commit that then fails are a harmless orphan)."""
    processed = process_upload(data)
    sha = sha or hashlib.sha256(data).hexdigest()
    store_photo_bytes(sha, data, processed)
    return Upload(sha256=sha, size=len(data), processed=processed)


def record_upload(upload: Upload, user) -> tuple[Photo, bool]:
    """The photo's record for stored bytes (flush). A record that survived while its bytes had
    gone gets its renditions back. Returns (photo, created); a concurrent upload of the same photo
    makes the loser's flush or commit raise IntegrityError (the caller answers "already there")."""
    sha, p = upload.sha256, upload.processed
    variants = {name: variant_key(sha, name) for name in p.renditions}
    photo = db.session.get(Photo, sha)
    if photo is not None:
        photo.variants = variants
        return photo, False
    photo = Photo(sha256=sha, size=upload.size, content_type=p.content_type, width=p.width, height=p.height,
                  captured_at=p.captured_at, lat=p.lat, lng=p.lng, variants=variants,
                  uploaded_by=getattr(user, "id", None), uploaded_at=datetime.now(UTC))
    db.session.add(photo)
    db.session.flush()
    return photo, True


def save_photo(sha: str, data: bytes, processed: ingest.Processed, user) -> tuple[Photo, bool]:
    """Store the bytes, then the record, so the record never points at missing bytes."""
    store_photo_bytes(sha, data, processed)
    return record_upload(Upload(sha256=sha, size=len(data), processed=processed), user)


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

def read_rendition(photo: Photo, variant: str) -> bytes:
    """The bytes of a rendition (made at upload; never rendered here) or of the original. Raises
    ObjectMissing when they are not in the store (e.g. a photo stored before renditions existed:
    `flask photos renditions` makes them), StorageError when the store fails."""
    return get_store().get(variant_key(photo.sha256, variant))


def rendition_size(photo: Photo, variant: str) -> tuple[int, int] | None:
    """Width and height of a rendition (for <img width height>), from the shown size."""
    if not photo.width or not photo.height:
        return None
    if variant == "original":
        return photo.width, photo.height
    return ingest.fit((photo.width, photo.height), ingest.VARIANTS[variant])


def may_download_original(user) -> bool:
    return getattr(user, "role", None) in EVERYTHING


def make_missing_renditions() -> tuple[int, int]:
    """Render what photos stored before the one ingest path lack (operator command). Returns
    (made, refused): a photo the ingest rules refuse (too many pixels ...) keeps none."""
    store = get_store()
    made = refused = 0
    for photo in db.session.scalars(select(Photo).order_by(Photo.uploaded_at)):
        keys = {v: variant_key(photo.sha256, v) for v in ingest.VARIANTS}
        if all(store.exists(k) for k in keys.values()):
            continue
        try:
            data = store.get(photo.sha256)
            processed = process_upload(data)
        except (ingest.PhotoRejected, ObjectMissing):
            refused += 1
            continue
        photo.variants = store_photo_bytes(photo.sha256, data, processed)
        made += 1
    db.session.flush()
    return made, refused


# ---- who may see a photo ----------------------------------------------------------------------

def _ref_visible(user):
    """A photo_refs row whose record `user` may see (the scope rules of webapp/authz.py)."""
    r = PhotoRef
    by_record = [
        and_(r.entity == name, exists(select(literal(1)).select_from(model)
                                      .where(model.id == r.record_id, scope_clause(model, user))))
        for name, model in REFERRING.items()
    ]
    by_record.append(and_(r.entity == PLAN_NOTE, exists(
        select(literal(1)).select_from(PlanNote).join(Plan, Plan.id == PlanNote.plan_id)
        .where(PlanNote.id == r.record_id, scope_clause(Plan, user)))))
    return or_(*by_record)


def photo_visible_to(user, sha: str) -> bool:
    """THE access rule for photos: a user sees a photo if they can see a record that refers to
    it. The uploader also sees a photo that no record refers to yet (a phone uploads before or
    after it pushes the record). One query: the photo, and its refs by index."""
    if user is None or not getattr(user, "is_authenticated", False) or not is_sha256(sha):
        return False
    if user.role in EVERYTHING:
        return db.session.get(Photo, sha) is not None
    referenced = exists().where(PhotoRef.sha256 == sha)
    visible = exists().where(PhotoRef.sha256 == sha, _ref_visible(user))
    row = db.session.execute(
        select(Photo.uploaded_by, referenced.label("referenced"), visible.label("visible"))
        .where(Photo.sha256 == sha)).first()
    if row is None:
        return False
    return bool(row.visible) or (row.uploaded_by == user.id and not row.referenced)


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

def _unreferenced():
    return ~exists().where(PhotoRef.sha256 == Photo.sha256)


def list_orphans(older_than_days: int = 7) -> list[Photo]:
    """Photos no record refers to (soft-deleted records count: evidence is kept), uploaded more than
    `older_than_days` ago (the grace period leaves time for a phone that uploaded its photos to
    push the record)."""
    cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
    return list(db.session.scalars(select(Photo).where(Photo.uploaded_at < cutoff, _unreferenced())
                                   .order_by(Photo.uploaded_at)))


def purge_orphans(orphans: list[Photo]) -> list[str]:
    """Delete the given orphans' records (flush). Re-checks references first, so a photo a record
    has picked up in the meantime is kept. Returns the store keys the caller deletes after commit."""
    shas = [p.sha256 for p in orphans]
    still = set(db.session.scalars(select(Photo.sha256).where(Photo.sha256.in_(shas), _unreferenced()))) if shas else set()
    keys: list[str] = []
    for photo in orphans:
        if photo.sha256 not in still:
            continue
        keys.extend([photo.sha256, *(variant_key(photo.sha256, v) for v in ingest.VARIANTS)])
        db.session.delete(photo)
    db.session.flush()
    return keys


def delete_objects(keys: list[str]) -> None:
    store = get_store()
    for key in keys:
        store.delete(key)
