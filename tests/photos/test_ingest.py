"""The ingest code itself (no HTTP): one decode, draft mode, conversions, EXIF evidence."""

import io

import pytest
from PIL import Image, JpegImagePlugin

from tests.photos.images import jpeg, picture, png_header_only, sha, swapped_primaries_icc
from tests.photos.test_api import token_for
from webapp.extensions import db
from webapp.photos import ingest
from webapp.photos.models import Photo
from webapp.photos.operations import missing_photos
from webapp.photos.storage import get_store


def test_jpeg_is_decoded_once_in_draft_mode_with_the_aspect_correct_size(monkeypatch):
    calls = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = real_draft(self, mode, size)
        calls.append((size, self.size))
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    out = ingest.process(jpeg((4032, 3024)))
    # A square (1600, 1600) box would keep a 4:3 photo at scale 1/1 (3024 < 2 × 1600); the aspect-
    # correct (1600, 1200) lets libjpeg decode at 1/2 scale.
    assert calls == [((1600, 1200), (2016, 1512))]
    assert out.sizes == {"display": (1600, 1200), "thumb": (320, 240)}


def test_small_photos_are_not_enlarged():
    out = ingest.process(jpeg((200, 100)))
    assert out.sizes == {"display": (200, 100), "thumb": (200, 100)}


@pytest.mark.parametrize("mode", ["CMYK", "L", "I;16", "P"])
def test_unusual_modes_become_rgb(mode):
    img = Image.new("RGB", (64, 48), (10, 200, 30)).convert(mode) if mode != "I;16" else Image.new("I;16", (64, 48), 30000)
    out = io.BytesIO()
    img.save(out, "JPEG" if mode in ("CMYK", "L") else "PNG")
    result = ingest.process(out.getvalue())
    assert Image.open(io.BytesIO(result.renditions["thumb"])).mode == "RGB"


def test_capture_time_without_offset_uses_company_zone_and_bad_gps_is_ignored():
    out = ingest.process(jpeg(offset=None, gps=None), default_tz="Asia/Shanghai")
    assert out.captured_at.isoformat() == "2026-11-20T01:30:00+00:00" and out.lat is None
    out = ingest.process(jpeg(taken="not a date"))
    assert out.captured_at is None  # broken EXIF never rejects a photo


def test_southern_western_coordinates():
    out = ingest.process(jpeg(gps=(-33.8688, -70.6693)))
    assert out.lat == pytest.approx(-33.8688, abs=1e-4) and out.lng == pytest.approx(-70.6693, abs=1e-4)


def test_bomb_rejected_from_header_even_under_pillows_own_limit():
    with pytest.raises(ingest.PhotoRejected) as e:
        ingest.process(png_header_only(12_000, 11_000), max_pixels=100_000_000)
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


def test_jpeg_end_marker_check():
    good = jpeg((640, 480), gps=(31.2, 121.4))
    # Bytes after the end marker (Samsung trailers, motion-photo video) are fine ...
    assert ingest.process(good + b"\x00MotionPhoto_Data" * 100).sizes["thumb"] == (320, 240)
    # ... a file cut before it is refused without decoding it.
    for cut in (len(good) - 2, len(good) * 3 // 4, 200):
        with pytest.raises(ingest.PhotoRejected) as e:
            ingest.process(good[:cut])
        assert (e.value.status, e.value.code) == (422, "corrupt_image")


def test_heic_orientation_applied_once():
    """pillow-heif applies the HEIF rotation on decode and resets the EXIF tag: not rotated twice."""
    img = picture((400, 300))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    img.save(out, "HEIF", exif=exif.tobytes())
    result = ingest.process(out.getvalue())
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
def test_renditions_are_converted_to_srgb_and_carry_no_profile(profile, shown):
    from PIL import ImageCms

    icc = {"wide": swapped_primaries_icc(),
           "srgb": ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(), None: None}[profile]
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (220, 30, 30)).save(out, "JPEG", quality=95, icc_profile=icc)
    result = ingest.process(out.getvalue())
    for blob in result.renditions.values():
        img = Image.open(io.BytesIO(blob))
        assert "icc_profile" not in img.info
        r, _g, b = img.convert("RGB").getpixel((10, 10))
        assert (b > 150 and r < 100) if shown == "blue" else (r > 150 and b < 100)


def test_png_has_a_lower_pixel_cap_than_camera_formats():
    with pytest.raises(ingest.PhotoRejected) as e:
        ingest.open_image(png_header_only(10_000, 6_000))  # 60 MP: fine for a JPEG, not for a PNG
    assert e.value.code == "too_many_pixels"
