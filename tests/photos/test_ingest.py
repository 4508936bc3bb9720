"""The ingest code itself (no HTTP): one decode, draft mode, conversions, EXIF evidence. Every
behaviour is checked on both pixel backends (libvips and Pillow, docs/photos.md "Ingest backends")."""

import io

import pytest
from PIL import Image, ImageChops, JpegImagePlugin

from tests.photos.images import jpeg, picture, png_header_only, sha, swapped_primaries_icc
from tests.photos.test_api import token_for
from webapp.extensions import db
from webapp.photos import ingest
from webapp.photos.models import Photo
from webapp.photos.operations import missing_photos
from webapp.photos.storage import get_store


@pytest.fixture(params=["vips", "pillow"])
def backend(request):
    """Each test runs on both backends; "vips" must really be libvips (pyvips[binary] is a
    dependency), so a missing library fails here instead of quietly testing Pillow twice."""
    return request.param


def test_jpeg_is_decoded_once_in_draft_mode_with_the_aspect_correct_size(monkeypatch):
    calls = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = real_draft(self, mode, size)
        calls.append((size, self.size))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    out = ingest.process(jpeg((4032, 3024)), backend="pillow")
    # A square (1600, 1600) box would keep a 4:3 photo at scale 1/1 (3024 < 2 × 1600); the aspect-
    # correct (1600, 1200) lets libjpeg decode at 1/2 scale.
    assert calls == [((1600, 1200), (2016, 1512))]
    assert out.sizes == {"display": (1600, 1200), "thumb": (320, 240)}


def test_small_photos_are_not_enlarged(backend):
    out = ingest.process(jpeg((200, 100)), backend=backend)
    assert out.sizes == {"display": (200, 100), "thumb": (200, 100)}


@pytest.mark.parametrize("mode", ["CMYK", "L", "I;16", "P"])
def test_unusual_modes_become_rgb(mode, backend):
    img = Image.new("RGB", (64, 48), (10, 200, 30)).convert(mode) if mode != "I;16" else Image.new("I;16", (64, 48), 30000)
    out = io.BytesIO()
    img.save(out, "JPEG" if mode in ("CMYK", "L") else "PNG")
    result = ingest.process(out.getvalue(), backend=backend)
    assert Image.open(io.BytesIO(result.renditions["thumb"])).mode == "RGB"


def test_capture_time_without_offset_uses_company_zone_and_bad_gps_is_ignored(backend):
    out = ingest.process(jpeg(offset=None, gps=None), default_tz="Asia/Shanghai", backend=backend)
    assert out.captured_at.isoformat() == "2026-11-20T01:30:00+00:00" and out.lat is None
    out = ingest.process(jpeg(taken="not a date"), backend=backend)
    assert out.captured_at is None  # broken EXIF never rejects a photo


def test_southern_western_coordinates(backend):
    out = ingest.process(jpeg(gps=(-33.8688, -70.6693)), backend=backend)
    assert out.lat == pytest.approx(-33.8688, abs=1e-4) and out.lng == pytest.approx(-70.6693, abs=1e-4)


def test_bomb_rejected_from_header_even_under_pillows_own_limit(backend):
    with pytest.raises(ingest.PhotoRejected) as e:
        ingest.process(png_header_only(12_000, 11_000), max_pixels=100_000_000, backend=backend)
    assert e.value.status == 413


def test_a_get_never_renders_and_the_operator_command_makes_missing_renditions(client, world, runner):
    """Photos stored before renditions existed: a GET answers 404 instead of decoding the original
    inside the request; `flask photos renditions` makes them once, through the ingest rules."""
    data = jpeg((900, 600))
    digest = sha(data)
    get_store().put(digest, data)
    db.session.add(Photo(sha256=digest, size=len(data), content_type="image/jpeg", width=900, height=600,
                         variants={}))
    world["findings"][0].photos = [digest]
    db.session.commit()
    headers = token_for(client, "sup1")
    r = client.get(f"/api/v1/photos/{digest}?variant=thumb", headers=headers)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert not get_store().exists(f"{digest}.thumb.jpg")
    result = runner.invoke(args=["photos", "renditions"])
    assert result.exit_code == 0 and "renditions made for 1 photo(s)" in result.output
    r = client.get(f"/api/v1/photos/{digest}?variant=thumb", headers=headers)
    assert r.status_code == 200 and Image.open(io.BytesIO(r.data)).size == (320, 213)
    assert get_store().exists(f"{digest}.display.jpg")
    assert db.session.get(Photo, digest).variants == {"display": f"{digest}.display.jpg", "thumb": f"{digest}.thumb.jpg"}


def test_jpeg_end_marker_check(backend):
    good = jpeg((640, 480), gps=(31.2, 121.4))
    # Bytes after the end marker (Samsung trailers, motion-photo video) are fine ...
    assert ingest.process(good + b"\x00MotionPhoto_Data" * 100, backend=backend).sizes["thumb"] == (320, 240)
    # ... a file cut before it is refused without decoding it.
    for cut in (len(good) - 2, len(good) * 3 // 4, 200):
        with pytest.raises(ingest.PhotoRejected) as e:
            ingest.process(good[:cut], backend=backend)
        assert (e.value.status, e.value.code) == (422, "corrupt_image")


def test_heic_orientation_applied_once(backend):
    """pillow-heif applies the HEIF rotation on decode and resets the EXIF tag: not rotated twice."""
    img = picture((400, 300))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    img.save(out, "HEIF", exif=exif.tobytes())
    result = ingest.process(out.getvalue(), backend=backend)
    assert (result.width, result.height) == (300, 400) and result.sizes["display"] == (300, 400)
    shown = Image.open(io.BytesIO(result.renditions["display"])).convert("RGB")
    assert shown.getpixel((150, 10))[0] > 150 and shown.getpixel((150, 390))[2] > 150  # red on top


def test_missing_photos_for_sync(app):
    stored = "a" * 64
    db.session.add(Photo(sha256=stored, size=1, content_type="image/jpeg", variants={}))
    db.session.flush()
    assert missing_photos([stored, "b" * 64, "b" * 64]) == ["b" * 64]
    assert missing_photos([]) == []


@pytest.mark.parametrize(("profile", "shown"), [("wide", "blue"), ("srgb", "red"), (None, "red")])
def test_renditions_are_converted_to_srgb_and_carry_no_profile(profile, shown, backend):
    from PIL import ImageCms

    icc = {"wide": swapped_primaries_icc(),
           "srgb": ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(), None: None}[profile]
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (220, 30, 30)).save(out, "JPEG", quality=95, icc_profile=icc)
    result = ingest.process(out.getvalue(), backend=backend)
    for blob in result.renditions.values():
        img = Image.open(io.BytesIO(blob))
        assert "icc_profile" not in img.info
        r, _g, b = img.convert("RGB").getpixel((10, 10))
        assert (b > 150 and r < 100) if shown == "blue" else (r > 150 and b < 100)


def test_png_has_a_lower_pixel_cap_than_camera_formats():
    with pytest.raises(ingest.PhotoRejected) as e:
        ingest.open_image(png_header_only(10_000, 6_000))  # 60 MP: fine for a JPEG, not for a PNG
    assert e.value.code == "too_many_pixels"


# ---- the two backends agree ---------------------------------------------------------------------

def quadrants(size) -> Image.Image:
    """Four colours, one per quarter, so every one of the eight EXIF orientations looks different."""
    w, h = size
    img = Image.new("RGB", size, (220, 30, 30))  # top left red
    img.paste((30, 30, 220), (w // 2, 0, w, h // 2))  # top right blue
    img.paste((30, 200, 30), (0, h // 2, w // 2, h))  # bottom left green
    img.paste((230, 230, 30), (w // 2, h // 2, w, h))  # bottom right yellow
    return img


def _jpeg_of(img, orientation=None, **kw) -> bytes:
    exif = Image.Exif()
    exif[0xA431] = "SERIAL-123456"
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    img.save(out, "JPEG", quality=92, exif=exif.tobytes(), **kw)
    return out.getvalue()


def _corners(blob):
    img = Image.open(io.BytesIO(blob)).convert("RGB")
    w, h = img.size
    return [img.getpixel((x, y)) for x, y in ((w // 8, h // 8), (w * 7 // 8, h // 8),
                                              (w // 8, h * 7 // 8), (w * 7 // 8, h * 7 // 8))]


def _near(a, b, tolerance=40):
    return all(abs(x - y) <= tolerance for pa, pb in zip(a, b, strict=True) for x, y in zip(pa, pb, strict=True))


@pytest.mark.parametrize("size", [(2400, 1800), (1001, 777), (3300, 1700)])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_both_backends_show_the_same_upright_picture(orientation, size):
    source = quadrants(size)
    data = _jpeg_of(source, orientation, subsampling=0)
    shown = source.transpose(ingest._TRANSPOSE[orientation]) if orientation > 1 else source  # upright
    results = {b: ingest.process(data, backend=b) for b in ("vips", "pillow")}
    assert results["vips"].backend == "vips" and results["pillow"].backend == "pillow"
    vips, pil = results["vips"], results["pillow"]
    assert vips.sizes == pil.sizes == {"display": ingest.fit(shown.size, 1600), "thumb": ingest.fit(shown.size, 320)}
    assert (vips.width, vips.height) == (pil.width, pil.height) == shown.size
    expected = [shown.getpixel((x * (shown.width - 1) // 8, y * (shown.height - 1) // 8))
                for x, y in ((1, 1), (7, 1), (1, 7), (7, 7))]
    for name in ("display", "thumb"):
        assert _near(_corners(vips.renditions[name]), expected), (name, "vips")
        assert _near(_corners(pil.renditions[name]), expected), (name, "pillow")
        a = Image.open(io.BytesIO(vips.renditions[name])).convert("RGB")
        b = Image.open(io.BytesIO(pil.renditions[name])).convert("RGB")
        assert a.size == b.size
        diff = ImageChops.difference(a, b).convert("L")
        assert sum(diff.histogram()[i] * i for i in range(256)) / (a.width * a.height) < 3  # mean |Δ|


def test_a_12_megapixel_jpeg_is_shrunk_on_load_at_the_draft_scale(monkeypatch):
    import pyvips

    calls = []
    real = pyvips.Image.jpegload_buffer

    def spy(data, **kwargs):
        calls.append(kwargs)
        return real(data, **kwargs)

    monkeypatch.setattr(pyvips.Image, "jpegload_buffer", spy)
    out = ingest.process(jpeg((4032, 3024), orientation=6), backend="vips")
    assert [c["shrink"] for c in calls] == [2]  # 2016 × 1512 decoded, as Pillow's draft()
    assert out.backend == "vips" and out.sizes == {"display": (1200, 1600), "thumb": (240, 320)}


def test_metadata_is_stripped_and_evidence_equal_on_both_backends():
    data = jpeg((1800, 1200), orientation=3, gps=(31.2304, 121.4737))
    vips, pil = (ingest.process(data, default_tz="Asia/Shanghai", backend=b) for b in ("vips", "pillow"))
    assert (vips.captured_at, vips.lat, vips.lng) == (pil.captured_at, pil.lat, pil.lng)
    assert vips.captured_at.isoformat() == "2026-11-20T01:30:00+00:00" and vips.lat == pytest.approx(31.2304, abs=1e-4)
    for result in (vips, pil):
        for blob in result.renditions.values():
            img = Image.open(io.BytesIO(blob))
            assert len(img.getexif()) == 0 and "icc_profile" not in img.info and "xmp" not in img.info
            assert b"Exif" not in blob and b"SERIAL-123456" not in blob and b"GPS" not in blob


def test_damaged_jpeg_data_gets_the_same_outcome_on_both_backends():
    import random

    good = jpeg((1600, 1200), quality=95)
    mid = len(good) // 2
    damaged = {
        "zeros": good[:mid] + b"\x00" * 2000 + good[mid + 2000:],
        "noise": good[:mid] + random.Random(7).randbytes(3000) + good[mid + 3000:],
        "cut, end marker added": good[:mid] + b"\xff\xd9",
        "cut": good[:mid],
        "header only": good[:400],
    }
    for name, data in damaged.items():
        outcome = {}
        for b in ("vips", "pillow"):
            try:
                outcome[b] = ("ok", ingest.process(data, backend=b).sizes)
            except ingest.PhotoRejected as e:
                outcome[b] = (e.status, e.code)
        assert outcome["vips"] == outcome["pillow"], name
    assert outcome["pillow"] == (422, "corrupt_image")  # "header only"


def test_cmyk_png_and_heic_are_rendered_by_pillow_whatever_the_setting():
    cmyk = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).convert("CMYK").save(cmyk, "JPEG")
    heic = io.BytesIO()
    picture((64, 48)).save(heic, "HEIF")
    for data in (cmyk.getvalue(), heic.getvalue(), encode_png()):
        assert ingest.process(data, backend="auto").backend == "pillow"
    assert ingest.process(jpeg(), backend="auto").backend == "vips"  # pyvips is installed here


def encode_png() -> bytes:
    out = io.BytesIO()
    picture((64, 48)).save(out, "PNG")
    return out.getvalue()


def test_backend_setting(monkeypatch):
    assert ingest.resolve_backend("auto") == "vips" and ingest.resolve_backend(None) == "vips"
    assert ingest.resolve_backend("Pillow") == "pillow"
    assert ingest.process(jpeg(), backend="pillow").backend == "pillow"
    with pytest.raises(ValueError, match="PHOTO_BACKEND"):
        ingest.resolve_backend("imagemagick")
    monkeypatch.setattr(ingest, "pyvips", None)  # as on an installation without libvips
    assert ingest.resolve_backend("auto") == "pillow"
    assert ingest.process(jpeg(), backend="auto").backend == "pillow"  # the fallback works
    with pytest.raises(RuntimeError, match="pyvips"):
        ingest.resolve_backend("vips")


def test_the_app_refuses_to_start_with_an_unknown_backend():
    from webapp import create_app

    with pytest.raises(ValueError, match="PHOTO_BACKEND"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x",
                    "PHOTO_BACKEND": "imagemagick"})
