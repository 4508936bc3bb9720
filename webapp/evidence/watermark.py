"""The watermarked display rendition (the evidence card's picture): the display rendition with a
visible band naming the site, the capture time, the supervisor and the short hash (first 8 hex
digits of the original's SHA-256). The original is never touched: it stays byte-identical under
its hash.

Made lazily, on the first request of the display rendition once the photo has a record (a phone
uploads photos before or after pushing the finding, so at upload nothing is known), and cached in
the photo store under `<sha>.wm-<digest>.jpg`, where the digest covers the watermark's text: if the
text changes (a visit reassigned, a site renamed) a new rendition is made once, the old one stays
as a harmless orphan of a few hundred kB.
"""

import hashlib
import io
import json

from flask import current_app
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from webapp.core.clock import company_zone
from webapp.evidence.markup import draw_shapes, markup_for
from webapp.extensions import db
from webapp.photos.models import PhotoRef
from webapp.photos.storage import ObjectMissing, StorageError, get_store

_FONTS: dict = {}


def _font(size: int):
    from webapp.reports.pdf import FontMissing, find_font

    try:
        path, index = find_font()
    except FontMissing:
        return ImageFont.load_default()
    key = (path, index, size)
    if key not in _FONTS:
        try:
            _FONTS[key] = ImageFont.truetype(path, size, index=index)
        except OSError:
            _FONTS[key] = ImageFont.load_default()
    return _FONTS[key]


def watermark_context(photo) -> dict | None:
    """What the watermark says for this photo, from the first record that refers to it (a finding
    first, then a checklist answer, then a rectification update), or None when no record does."""
    from webapp.findings.models import Finding
    from webapp.rectification.models import RectificationUpdate
    from webapp.visits.models import ChecklistAnswer, Visit

    refs = db.session.execute(select(PhotoRef.entity, PhotoRef.record_id).where(PhotoRef.sha256 == photo.sha256)).all()
    order = {"finding": 0, "checklist_answer": 1, "rectification_update": 2}
    refs = sorted((r for r in refs if r.entity in order), key=lambda r: (order[r.entity], r.record_id))
    shapes: list = []
    for entity, record_id in refs:  # the markup is drawn by the first finding that has some for the photo
        if entity == "finding" and not shapes:
            shapes = markup_for(db.session.get(Finding, record_id), photo.sha256)
    for entity, record_id in refs:
        visit, captured = None, None
        if entity == "finding":
            f = db.session.get(Finding, record_id)
            visit, captured = (f.visit, f.captured_at) if f is not None else (None, None)
        elif entity == "checklist_answer":
            a = db.session.get(ChecklistAnswer, record_id)
            visit = a.visit if a is not None else None
        else:
            u = db.session.get(RectificationUpdate, record_id)
            f = db.session.get(Finding, u.finding_id) if u is not None else None
            visit = db.session.get(Visit, f.visit_id) if f is not None else None
        if visit is None:
            continue
        site = visit.site
        supervisor = visit.supervisor
        return {"site": site.name if site else "", "site_code": site.code if site else "",
                "supervisor": supervisor.display_name if supervisor else "",
                "captured": photo.captured_at or captured, "short": photo.sha256[:8], "shapes": shapes}
    return None


def watermark_lines(ctx: dict) -> list[str]:
    tz = company_zone()
    when = ctx["captured"].astimezone(tz).strftime("%Y-%m-%d %H:%M %z") if ctx.get("captured") else "—"
    site = f"{ctx['site']} ({ctx['site_code']})" if ctx.get("site_code") else ctx.get("site", "")
    return [site, f"{when} · {ctx['supervisor']}", f"SHA-256 {ctx['short']}"]


def watermark_key(sha: str, lines: list[str], shapes: list | None = None) -> str:
    """The cache key; its digest covers the band's text and the markup drawn under it."""
    text = "\n".join(lines) + (json.dumps(shapes, sort_keys=True) if shapes else "")
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"{sha}.wm-{digest}.jpg"


def draw_watermark(display_jpeg: bytes, lines: list[str], shapes: list | None = None) -> bytes:
    """The display rendition with the photo's markup drawn on it (webapp/evidence/markup.py) and a
    translucent band at the bottom holding `lines`."""
    with Image.open(io.BytesIO(display_jpeg)) as img:
        img = draw_shapes(img, shapes or [])
    w, h = img.size
    size = max(12, min(w, h) // 28)
    font = _font(size)
    pad = max(4, size // 3)
    band = pad * 2 + len(lines) * (size + pad)
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle([0, max(0, h - band), w, h], fill=(0, 0, 0, 150))
    y = max(0, h - band) + pad
    for line in lines:
        draw.text((pad * 2, y), line, font=font, fill=(255, 255, 255, 235))
        y += size + pad
    out = Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB")
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=82, exif=b"", icc_profile=None)
    return buf.getvalue()


def watermarked_display(photo) -> tuple[bytes, str] | None:
    """(bytes, etag suffix) of the watermarked display rendition, made and cached on first use;
    None when the photo has no record yet (the plain display rendition is served) or its display
    rendition is missing. Raises StorageError when the store fails."""
    ctx = watermark_context(photo)
    if ctx is None:
        return None
    lines = watermark_lines(ctx)
    shapes = ctx.get("shapes") or []
    key = watermark_key(photo.sha256, lines, shapes)
    store = get_store()
    tag = key.rsplit(".", 1)[0].split(".", 1)[1]
    try:
        return store.get(key), tag
    except ObjectMissing:
        pass
    try:
        display = store.get(f"{photo.sha256}.display.jpg")
    except ObjectMissing:
        return None
    blob = draw_watermark(display, lines, shapes)
    try:
        store.put(key, blob)
    except StorageError as e:  # served anyway; made again next time
        current_app.logger.warning("photo storage: could not cache %s: %s", key, e)
    return blob, tag
