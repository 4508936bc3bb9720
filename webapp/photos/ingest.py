"""Turn uploaded bytes into evidence: validate, read capture time/GPS, make the renditions.

No Flask and no database, so the benchmark and the tests drive exactly this code. One decode serves
every rendition: a JPEG is decoded at a reduced DCT scale (draft mode / shrink-on-load) just large
enough for the biggest rendition, and the EXIF orientation is applied to the small results, never to
the full image (which would decode it all at full size).

Two pixel backends (docs/photos.md "Ingest backends"): libvips through pyvips renders JPEGs when it
is importable (`PHOTO_BACKEND=auto`, the default), Pillow renders everything else and everything when
`PHOTO_BACKEND=pillow`. Validation (format, declared pixels, the JPEG end marker) and the EXIF
evidence are read by Pillow from the header for both, so they cannot differ between backends.
"""

import io
import os
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image, ImageCms

try:  # HEIC/HEIF from iPhones and many Android phones
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
    pillow_heif = None

try:  # libvips: the faster JPEG path (pyvips[binary] bundles the library); Pillow is the fallback
    import pyvips

    pyvips.cache_set_max(0)  # every upload is new: an operation cache would only hold memory
    if "VIPS_CONCURRENCY" not in os.environ:
        # One thread per upload: the work is JPEG decoding (serial anyway); the web server's
        # workers are the parallelism, and more threads only cost CPU time and memory.
        pyvips.concurrency_set(1)
except Exception:  # ImportError, or OSError/pyvips.Error when the shared library is missing
    pyvips = None

BACKENDS = ("auto", "vips", "pillow")

# Renditions: name → longest side in pixels. Stored as JPEG, metadata stripped, sRGB.
VARIANTS = {"display": 1600, "thumb": 320}
JPEG_QUALITY = {"display": 82, "thumb": 76}
# The display size is a mild shrink of the draft-decoded image (2016 → 1600 for 12 MP, a factor
# of 1.26): there Pillow's antialiased bilinear looks like Lanczos at half the cost (18 vs 35 ms).
# The thumbnail shrinks 5x and gets Lanczos (after a box reduce, see reducing_gap below).
RESAMPLE = {"display": Image.Resampling.BILINEAR, "thumb": Image.Resampling.LANCZOS}
RENDITION_TYPE = "image/jpeg"
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}
DEFAULT_MAX_PIXELS = 120_000_000  # 108 MP phone sensors fit; a decompression bomb does not
# PNG and WebP cannot be decoded at a reduced scale, and a flat 100 MP PNG is a few hundred KB that
# decodes to 300 MB. They are screenshots and edited pictures, not camera output: a lower cap.
FULL_DECODE_MAX_PIXELS = 50_000_000

_TRANSPOSE = {  # EXIF orientation → the transpose that shows the picture upright
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class PhotoRejected(Exception):
    """A bad upload. `status` is the HTTP status, `code` the machine-readable reason; the API
    turns the code into a message in the user's language."""

    def __init__(self, status: int, code: str, detail: str = ""):
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


@dataclass
class Processed:
    content_type: str
    width: int  # as shown (orientation applied)
    height: int
    captured_at: datetime | None = None
    lat: float | None = None
    lng: float | None = None
    renditions: dict[str, bytes] = field(default_factory=dict)  # variant → JPEG bytes
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    backend: str = "pillow"  # which library made the renditions: "vips" or "pillow"


def fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """`size` scaled down (never up) so its longest side is at most `longest`, aspect kept."""
    w, h = size
    scale = longest / max(w, h)
    if scale >= 1:
        return w, h
    return max(1, round(w * scale)), max(1, round(h * scale))


def open_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Identify the image from its header only. Declared dimensions are checked before any pixel
    is decoded, so a small file claiming 50,000 × 50,000 pixels costs nothing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=None)
    except Image.DecompressionBombError as e:
        raise PhotoRejected(413, "too_many_pixels", str(e)) from None
    except Image.UnidentifiedImageError as e:
        raise PhotoRejected(415, "not_an_image", str(e)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise PhotoRejected(422, "corrupt_image", str(e)) from None
    if img.format not in FORMATS:
        raise PhotoRejected(415, "unsupported_format", str(img.format))
    if img.format == "JPEG" and not _jpeg_has_end(data):
        # Cut off in transfer: refuse now instead of decoding megapixels to find out.
        raise PhotoRejected(422, "corrupt_image", "JPEG without its end marker")
    w, h = img.size
    if w < 1 or h < 1:
        raise PhotoRejected(422, "corrupt_image", "empty image")
    limit = min(max_pixels, FULL_DECODE_MAX_PIXELS) if img.format in ("PNG", "WEBP") else max_pixels
    if w * h > limit:
        raise PhotoRejected(413, "too_many_pixels", f"{w}x{h}")
    return img


def _jpeg_has_end(data: bytes) -> bool:
    """Does the JPEG's entropy-coded data end with an EOI marker (FF D9)? The header segments are
    walked to the first SOS so that an embedded EXIF thumbnail's own EOI does not count. Bytes
    after the EOI (Samsung trailers, motion-photo video) are allowed."""
    pos, n = 2, len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            return False
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # no length
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if marker == 0xDA:  # start of scan: FF D9 cannot occur inside entropy-coded data
            # Searched from the end, where the marker is: a forward scan costs ms per 12 MP photo.
            return data.rfind(b"\xff\xd9", pos + 2 + length) != -1
        pos += 2 + length
    return False


def vips_available() -> bool:
    return pyvips is not None


def resolve_backend(backend: str | None = "auto") -> str:
    """"vips" or "pillow" for a PHOTO_BACKEND setting; "vips" without libvips is a setup error."""
    backend = (backend or "auto").strip().lower()
    if backend not in BACKENDS:
        raise ValueError(f"PHOTO_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend == "auto":
        return "vips" if pyvips is not None else "pillow"
    if backend == "vips" and pyvips is None:
        raise RuntimeError("PHOTO_BACKEND=vips but pyvips/libvips cannot be imported: "
                           "pip install 'pyvips[binary]' (or set PHOTO_BACKEND=pillow)")
    return backend


def process(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, default_tz: str = "UTC",
            variants: dict[str, int] = VARIANTS, backend: str | None = "auto") -> Processed:
    """Validate `data` and make every rendition from a single decode."""
    use_vips = resolve_backend(backend) == "vips"
    img = open_image(data, max_pixels)
    content_type = FORMATS[img.format]
    try:
        exif = img.getexif()
    except Exception:  # broken EXIF never rejects the photo itself
        exif = Image.Exif()
    orientation = _int_or_none(exif.get(ExifTags.Base.Orientation))
    transpose = _TRANSPOSE.get(orientation or 1)
    icc = img.info.get("icc_profile")
    stored_size = img.size
    largest = max(variants.values())
    target = fit(stored_size, largest)
    # libvips takes the camera format (JPEG, RGB or greyscale); CMYK JPEGs, PNG, WebP and HEIC
    # keep Pillow's conversions (pillow-heif applies the HEIF rotation itself).
    use_vips = use_vips and img.format == "JPEG" and img.mode in ("RGB", "L")
    try:
        renditions = None
        if use_vips:
            try:
                renditions, sizes = _render_vips(data, stored_size, target, transpose, icc, variants)
            except pyvips.Error:
                # libvips saw damage in the compressed data (it is told to stop at libjpeg's first
                # warning). Pillow accepts some such files and refuses others: its verdict decides,
                # so a damaged photo gets the same answer whichever backend is installed.
                use_vips = False
        if renditions is None:
            renditions, sizes = _render_pillow(img, stored_size, target, transpose, icc, variants)
    except PhotoRejected:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as e:
        # "image file is truncated", broken Huffman data, bad PNG CRC, undecodable HEIC ...
        raise PhotoRejected(422, "corrupt_image", str(e)) from None
    finally:
        img.close()
    w, h = stored_size
    if transpose in (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270,
                     Image.Transpose.TRANSPOSE, Image.Transpose.TRANSVERSE):
        w, h = h, w
    captured_at, lat, lng = _evidence(exif, default_tz)
    return Processed(content_type=content_type, width=w, height=h, captured_at=captured_at, lat=lat,
                     lng=lng, renditions=renditions, sizes=sizes, backend="vips" if use_vips else "pillow")


def _render_pillow(img, stored_size, target, transpose, icc, variants):
    if img.format == "JPEG" and target != stored_size:
        # Aspect-correct target: draft() keeps scaling while BOTH sides stay >= the request, so a
        # square (1600, 1600) box would stop a 4:3 landscape at scale 1 and decode it all.
        img.draft("RGB", target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img.load()
    base = _to_rgb_or_rgba(img)
    renditions: dict[str, bytes] = {}
    sizes: dict[str, tuple[int, int]] = {}
    source = base
    for name, longest in sorted(variants.items(), key=lambda kv: -kv[1]):
        size = fit(stored_size, longest)
        # reducing_gap=2: a fast box reduce by an integer factor first (1600 → 320 is 5x), then
        # LANCZOS for the rest; visually the same as LANCZOS all the way at a fraction of it.
        small = source if source.size == size else source.resize(
            size, RESAMPLE.get(name, Image.Resampling.LANCZOS), reducing_gap=2.0)
        source = small  # the next (smaller) rendition is made from this one, not the original
        out = _flatten(small)
        out = _to_srgb(out, icc)
        if transpose is not None:
            out = out.transpose(transpose)
        renditions[name] = _encode_jpeg(out, JPEG_QUALITY.get(name, 80))
        sizes[name] = out.size
    return renditions, sizes


# ---- the libvips backend (JPEG) ----------------------------------------------------------------

# EXIF orientation → the libvips operations that show the picture upright (the same transposes as
# _TRANSPOSE: Pillow's ROTATE_270 is a quarter turn clockwise, libvips' rot90).
_VIPS_ORIENT = {
    Image.Transpose.FLIP_LEFT_RIGHT: ("fliphor",),
    Image.Transpose.ROTATE_180: ("rot180",),
    Image.Transpose.FLIP_TOP_BOTTOM: ("flipver",),
    Image.Transpose.TRANSPOSE: ("rot90", "fliphor"),
    Image.Transpose.ROTATE_270: ("rot90",),
    Image.Transpose.TRANSVERSE: ("rot270", "fliphor"),
    Image.Transpose.ROTATE_90: ("rot270",),
}
_VIPS_KERNEL = {"display": "linear", "thumb": "lanczos3"}  # as RESAMPLE for Pillow


def _draft_scale(stored_size, target) -> int:
    """The DCT scale Pillow's draft() picks (1, 2, 4 or 8): the largest keeping both sides >= target."""
    scale = min(stored_size[0] // target[0], stored_size[1] // target[1])
    return next(s for s in (8, 4, 2, 1) if scale >= s)


def _vips_resize(v, size: tuple[int, int], kernel: str):
    if (v.width, v.height) == size:
        return v
    out = v.resize(size[0] / v.width, vscale=size[1] / v.height, kernel=kernel)
    if (out.width, out.height) != size:  # a rounding pixel: the sizes must be fit()'s exactly
        out = out.embed(0, 0, size[0], size[1], extend="copy")
    return out


def _render_vips(data, stored_size, target, transpose, icc, variants):
    # jpegload itself (not new_from_buffer's sniffing): only the JPEG loader ever sees the bytes.
    # Shrink-on-load at the scale Pillow's draft() uses. fail_on="warning": any damage raises
    # pyvips.Error and process() lets Pillow decide about the file.
    v = pyvips.Image.jpegload_buffer(data, shrink=_draft_scale(stored_size, target) if target != stored_size
                                     else 1, access="sequential", fail_on="warning")
    convert = bool(icc) and _needs_srgb(icc)
    renditions: dict[str, bytes] = {}
    sizes: dict[str, tuple[int, int]] = {}
    source = None
    for name, longest in sorted(variants.items(), key=lambda kv: -kv[1]):
        size = fit(stored_size, longest)
        if source is None:  # the largest: decoded, resized and converted in one streaming pass
            small = _vips_resize(v, size, _VIPS_KERNEL.get(name, "lanczos3"))
            if small.bands == 1:
                small = small.colourspace("srgb")
            if convert:
                try:
                    small = small.icc_transform("srgb", embedded=True, intent="perceptual")
                except pyvips.Error:
                    pass  # a broken profile: keep the pixels as they are (as Pillow does)
            small = small.copy_memory()  # decoded here; the rotation and the next size need it whole
        else:
            small = _vips_resize(source, size, _VIPS_KERNEL.get(name, "lanczos3"))
        source = small
        out = small
        for op in _VIPS_ORIENT.get(transpose, ()):
            out = getattr(out, op)()
        # keep="none": no EXIF, XMP, IPTC or ICC profile in the rendition.
        renditions[name] = out.jpegsave_buffer(Q=JPEG_QUALITY.get(name, 80), keep="none")
        sizes[name] = (out.width, out.height)
    return renditions, sizes


def _to_rgb_or_rgba(img: Image.Image) -> Image.Image:
    """A mode LANCZOS can resize: RGB, or RGBA when the picture has transparency."""
    if img.mode in ("RGB", "RGBA"):
        return img
    if img.mode in ("LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        return img.convert("RGBA")
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        # 16-bit greyscale PNG: scale to 8 bits instead of clipping everything to white.
        img = img.convert("I").point(lambda v: v / 256).convert("L")
    return img.convert("RGB")


def _flatten(img: Image.Image) -> Image.Image:
    if img.mode == "RGBA":
        bg = Image.new("RGB", img.size, (255, 255, 255))
        bg.paste(img, mask=img.getchannel("A"))
        return bg
    return img


_SRGB = None


def _to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert from an embedded colour profile (Display P3 on iPhones, Adobe RGB ...) to sRGB, on
    the small rendition only. Without a profile the pixels are taken as sRGB already."""
    global _SRGB
    if not icc or not _needs_srgb(icc):
        return img
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if _SRGB is None:
            _SRGB = ImageCms.createProfile("sRGB")
        return ImageCms.profileToProfile(img, src, _SRGB, outputMode="RGB") or img
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img  # a broken profile: keep the pixels as they are


def _needs_srgb(icc: bytes) -> bool:
    """Is the embedded profile one to convert from? Not when it says it is sRGB already; a profile
    that cannot be read is not converted (both backends decide with this)."""
    try:
        desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))) or ""
    except (ImageCms.PyCMSError, OSError, ValueError):
        return False
    return "srgb" not in desc.lower()


def _encode_jpeg(img: Image.Image, quality: int) -> bytes:
    # A fresh info dict: nothing of the original's metadata (EXIF, GPS, serials, XMP, ICC) is
    # carried into the rendition.
    img.info = {}
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, exif=b"", icc_profile=None)
    return out.getvalue()


# ---- EXIF evidence: capture time and place ---------------------------------------------------

def _int_or_none(v):
    try:
        return int(v) if v is not None else None
    except (TypeError, ValueError):
        return None


def _evidence(exif, default_tz: str):
    captured_at = lat = lng = None
    try:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        raw = sub.get(ExifTags.Base.DateTimeOriginal) or sub.get(ExifTags.Base.DateTimeDigitized) \
            or exif.get(ExifTags.Base.DateTime)
        offset = sub.get(ExifTags.Base.OffsetTimeOriginal) or sub.get(ExifTags.Base.OffsetTime)
        captured_at = _exif_time(raw, offset, default_tz)
    except Exception:
        captured_at = None
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        lat = _exif_coord(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), 90)
        lng = _exif_coord(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), 180)
        if lat is None or lng is None:
            lat = lng = None
    except Exception:
        lat = lng = None
    return captured_at, lat, lng


def _exif_time(raw, offset, default_tz: str) -> datetime | None:
    if not raw:
        return None
    raw = raw.decode(errors="ignore") if isinstance(raw, bytes) else str(raw)
    naive = datetime.strptime(raw.strip().rstrip("\x00")[:19], "%Y:%m:%d %H:%M:%S")
    tz = None
    if offset:
        offset = offset.decode(errors="ignore") if isinstance(offset, bytes) else str(offset)
        sign = -1 if offset.strip().startswith("-") else 1
        hh, _, mm = offset.strip().lstrip("+-").partition(":")
        tz = timezone(sign * timedelta(hours=int(hh), minutes=int(mm or 0)))
    if tz is None:
        tz = ZoneInfo(default_tz)  # phones write local time; the company's zone is the best guess
    return naive.replace(tzinfo=tz).astimezone(UTC)


def _exif_coord(dms, ref, limit) -> float | None:
    if not dms or len(dms) != 3:
        return None
    deg, minutes, seconds = (float(x) for x in dms)
    value = deg + minutes / 60 + seconds / 3600
    ref = ref.decode(errors="ignore") if isinstance(ref, bytes) else (ref or "")
    if ref.strip().upper() in ("S", "W"):
        value = -value
    if not -limit <= value <= limit or value != value:  # out of range or NaN
        return None
    return round(value, 7)
