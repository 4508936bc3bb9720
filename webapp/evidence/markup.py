"""Photo markup (circles, arrows, rectangles, text drawn on a photo on the phone) and finger
signatures: both are VECTOR data in normalized 0..1 coordinates, validated strictly here and drawn
with Pillow on the server. The original photo is never touched; markup is drawn into the display
rendition (webapp/evidence/watermark.py) and the PDF's photos (webapp/reports/pdf.py).

Wire forms (docs/photo-evidence.md#markup-and-signatures):

    finding.markup = {"<sha256>": [{"kind": "circle", "color": "red",
                                    "x1": 0.2, "y1": 0.3, "x2": 0.5, "y2": 0.6}, ...], ...}
    visit.opening_signature = {"signer": "王店长", "signed_at": "2026-11-20T09:05:00+08:00",
                               "strokes": [[[0.1, 0.5], [0.12, 0.48], ...], ...]}

circle and rect are the box (x1, y1)–(x2, y2) (the circle is the ellipse inside it); an arrow
points from (x1, y1) to (x2, y2); a text shape is written at (x1, y1). A signature's points are
relative to its pad, which is SIGNATURE_ASPECT times as wide as it is high.
"""

import io
import math
import re
from datetime import datetime

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageDraw

from webapp.core.text import codepoint, first_forbidden

SHAPE_KINDS = ("circle", "rect", "arrow", "text")
COLORS = {"red": (230, 30, 30), "yellow": (255, 214, 0), "white": (255, 255, 255)}
MAX_SHAPES = 50  # per photo
MAX_MARKED_PHOTOS = 200  # the size of a photo set
MAX_TEXT = 200
SIGNATURE_ASPECT = 3.0  # the pad is 3 × as wide as high
MAX_STROKES = 100
MAX_POINTS = 5000  # over all strokes
MAX_SIGNER = 80
_SHA = re.compile(r"^[0-9a-f]{64}$")
_COORDS = ("x1", "y1", "x2", "y2")


class MarkupInvalid(ValueError):
    """A bad overlay or signature; `message` is a lazy string in the user's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _coord(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MarkupInvalid(_l("%(where)s: a coordinate must be a number.", where=where))
    if not 0 <= value <= 1:
        raise MarkupInvalid(_l("%(where)s: coordinates run from 0 to 1 (the photo's edges).", where=where))
    return round(float(value), 5)


def validate_shape(shape, where: str) -> dict:
    if not isinstance(shape, dict):
        raise MarkupInvalid(_l("%(where)s: a shape must be an object.", where=where))
    kind = shape.get("kind")
    if kind not in SHAPE_KINDS:
        raise MarkupInvalid(_l("%(where)s: a shape is a circle, a rectangle, an arrow or a text.", where=where))
    allowed = {"kind", "color", *_COORDS} | ({"text"} if kind == "text" else set())
    unknown = sorted(set(shape) - allowed)
    if unknown:
        raise MarkupInvalid(_l("%(where)s: unknown field %(name)s.", where=where, name=unknown[0][:40]))
    color = shape.get("color", "red")
    if color not in COLORS:
        raise MarkupInvalid(_l("%(where)s: the colour is red, yellow or white.", where=where))
    out = {"kind": kind, "color": color}
    needed = ("x1", "y1") if kind == "text" else _COORDS
    for name in _COORDS:
        if name in shape:
            out[name] = _coord(shape[name], where)
        elif name in needed:
            raise MarkupInvalid(_l("%(where)s: the shape's position is missing.", where=where))
    if kind == "text":
        text = shape.get("text")
        if not isinstance(text, str) or not text.strip():
            raise MarkupInvalid(_l("%(where)s: a text shape needs its text.", where=where))
        if len(text) > MAX_TEXT:
            raise MarkupInvalid(_l("%(where)s: a text shape holds at most %(max)d characters.", where=where,
                                   max=MAX_TEXT))
        char = first_forbidden(text)
        if char is not None:
            raise MarkupInvalid(_l("%(where)s: the text holds an invisible control character (%(char)s).",
                                   where=where, char=codepoint(char)))
        out["text"] = text.strip()
    return out


def validate_markup(value) -> dict:
    """The overlay of a finding's photos, checked and normalized; raises MarkupInvalid."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MarkupInvalid(_l("The markup must be an object: photo hash → list of shapes."))
    if len(value) > MAX_MARKED_PHOTOS:
        raise MarkupInvalid(_l("At most %(max)d photos can be marked up.", max=MAX_MARKED_PHOTOS))
    out = {}
    for sha, shapes in sorted(value.items()):
        if not isinstance(sha, str) or not _SHA.match(sha):
            raise MarkupInvalid(_l("Not a SHA-256 photo hash (64 lower-case hex digits)."))
        if not isinstance(shapes, list):
            raise MarkupInvalid(_l("The markup of a photo must be a list of shapes."))
        if len(shapes) > MAX_SHAPES:
            raise MarkupInvalid(_l("At most %(max)d shapes on one photo.", max=MAX_SHAPES))
        if shapes:
            out[sha] = [validate_shape(s, f"{sha[:8]} #{i + 1}") for i, s in enumerate(shapes)]
    return out


def validate_signature(value) -> dict | None:
    """A finger signature with the signer's name and time, checked; raises MarkupInvalid."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MarkupInvalid(_l("A signature must be an object with the signer, the time and the strokes."))
    unknown = sorted(set(value) - {"signer", "signed_at", "strokes"})
    if unknown:
        raise MarkupInvalid(_l("Unknown field %(name)s in the signature.", name=unknown[0][:40]))
    signer = value.get("signer")
    if not isinstance(signer, str) or not signer.strip():
        raise MarkupInvalid(_l("Give the name of the person who signs."))
    if len(signer) > MAX_SIGNER or first_forbidden(signer) is not None:
        raise MarkupInvalid(_l("The signer's name holds at most %(max)d characters, no control characters.",
                               max=MAX_SIGNER))
    try:
        signed_at = datetime.fromisoformat(str(value.get("signed_at")))
    except ValueError:
        signed_at = None
    if signed_at is None or signed_at.tzinfo is None or not 1900 <= signed_at.year <= 2999:
        raise MarkupInvalid(_l("The signature's time must be a date and time with a time zone (ISO 8601)."))
    strokes = value.get("strokes")
    if not isinstance(strokes, list) or not strokes:
        raise MarkupInvalid(_l("The signature is empty: sign with a finger in the box."))
    if len(strokes) > MAX_STROKES:
        raise MarkupInvalid(_l("A signature holds at most %(max)d strokes.", max=MAX_STROKES))
    points = 0
    clean = []
    for stroke in strokes:
        if not isinstance(stroke, list) or not stroke:
            raise MarkupInvalid(_l("A stroke must be a list of points."))
        points += len(stroke)
        if points > MAX_POINTS:
            raise MarkupInvalid(_l("A signature holds at most %(max)d points.", max=MAX_POINTS))
        line = []
        for p in stroke:
            if not isinstance(p, list) or len(p) != 2:
                raise MarkupInvalid(_l("A point is a pair [x, y]."))
            line.append([_coord(p[0], str(_l("Signature box"))), _coord(p[1], str(_l("Signature box")))])
        clean.append(line)
    return {"signer": signer.strip(), "signed_at": signed_at.isoformat(), "strokes": clean}


# ---- drawing ---------------------------------------------------------------------------------


def _font(size: int):
    from webapp.evidence.watermark import _font as font

    return font(size)


def draw_shapes(img: Image.Image, shapes: list[dict]) -> Image.Image:
    """`img` (RGB) with the shapes drawn on it, scaled to its size; returns a new image."""
    out = img.convert("RGB").copy()
    if not shapes:
        return out
    w, h = out.size
    draw = ImageDraw.Draw(out)
    width = max(2, round(min(w, h) / 120))
    for s in shapes:
        color = COLORS.get(s.get("color"), COLORS["red"])
        x1, y1 = s["x1"] * (w - 1), s["y1"] * (h - 1)
        x2, y2 = s.get("x2", s["x1"]) * (w - 1), s.get("y2", s["y1"]) * (h - 1)
        box = [min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)]
        if s["kind"] == "circle":
            draw.ellipse(box, outline=color, width=width)
        elif s["kind"] == "rect":
            draw.rectangle(box, outline=color, width=width)
        elif s["kind"] == "arrow":
            draw.line([x1, y1, x2, y2], fill=color, width=width)
            angle = math.atan2(y2 - y1, x2 - x1)
            head = max(8, width * 4)
            for side in (-0.45, 0.45):
                draw.line([x2, y2, x2 - head * math.cos(angle + side), y2 - head * math.sin(angle + side)],
                          fill=color, width=width)
        else:
            size = max(12, round(min(w, h) / 22))
            font = _font(size)
            draw.text((x1, y1), s.get("text", ""), font=font, fill=color, stroke_width=max(1, size // 10),
                      stroke_fill=(0, 0, 0))
    return out


def marked_jpeg(jpeg: bytes, shapes: list[dict], quality: int = 82) -> bytes:
    """A rendition's JPEG with the shapes drawn on it (never the original's bytes)."""
    with Image.open(io.BytesIO(jpeg)) as im:
        out = draw_shapes(im, shapes)
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=quality, exif=b"", icc_profile=None)
    return buf.getvalue()


def signature_png(signature: dict, width: int = 600) -> bytes:
    """The signature's strokes drawn dark on white, `width` px wide (3:1)."""
    height = round(width / SIGNATURE_ASPECT)
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    pen = max(2, width // 200)
    for stroke in signature.get("strokes") or []:
        pts = [(x * (width - 1), y * (height - 1)) for x, y in stroke]
        if len(pts) == 1:
            x, y = pts[0]
            draw.ellipse([x - pen, y - pen, x + pen, y + pen], fill=(20, 30, 60))
        else:
            draw.line(pts, fill=(20, 30, 60), width=pen, joint="curve")
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def markup_for(finding, sha: str) -> list[dict]:
    """The shapes drawn on one of a finding's photos ([] when none or the photo left the finding)."""
    if finding is None or sha not in (finding.photos or []):
        return []
    return list((getattr(finding, "markup", None) or {}).get(sha) or [])
