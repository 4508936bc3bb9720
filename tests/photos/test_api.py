import io
import threading
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.photos.images import encode, jpeg, png_header_only, sha
from webapp.extensions import db
from webapp.photos.models import Photo


def token_for(client, username):
    r = client.post("/api/v1/auth/token", json={"username": username, "password": "correct-horse-battery",
                                                "device_name": "phone"})
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def put(client, headers, data, digest=None):
    return client.put(f"/api/v1/photos/{digest or sha(data)}", data=data, headers=headers,
                      content_type="application/octet-stream")


def stored_files(app):
    root = Path(app.config["MEDIA_ROOT"])
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def sup1(client, world):
    return token_for(client, "sup1")


# The same API behaviour whichever pixel backend renders (docs/photos.md "Ingest backends").
BOTH_BACKENDS = pytest.mark.parametrize("app_config", [{"PHOTO_BACKEND": "vips"}, {"PHOTO_BACKEND": "pillow"}],
                                        ids=["vips", "pillow"])


def test_round_trip(client, app, sup1):
    data = jpeg()
    digest = sha(data)
    assert client.head(f"/api/v1/photos/{digest}", headers=sup1).status_code == 404
    r = put(client, sup1, data)
    assert r.status_code == 201
    body = r.get_json()
    assert body["sha256"] == digest and body["size"] == len(data) and body["content_type"] == "image/jpeg"
    assert (body["width"], body["height"]) == (400, 300) and body["variants"] == ["display", "thumb"]
    assert client.head(f"/api/v1/photos/{digest}", headers=sup1).status_code == 200
    assert put(client, sup1, data).status_code == 200  # already there
    for variant, longest in (("thumb", 320), ("display", 400)):
        r = client.get(f"/api/v1/photos/{digest}?variant={variant}", headers=sup1)  # the uploader, unreferenced
        assert r.status_code == 200 and r.mimetype == "image/jpeg"
        assert max(Image.open(io.BytesIO(r.data)).size) == longest
    assert sorted(stored_files(app)) == sorted([digest, f"{digest}.display.jpg", f"{digest}.thumb.jpg"])


def test_caching_headers_and_etag(client, sup1):
    data = jpeg()
    put(client, sup1, data)
    url = f"/api/v1/photos/{sha(data)}?variant=thumb"
    r = client.get(url, headers=sup1)
    assert "immutable" in r.headers["Cache-Control"] and "private" in r.headers["Cache-Control"]
    etag = r.headers["ETag"]
    r2 = client.get(url, headers={**sup1, "If-None-Match": etag})
    assert r2.status_code == 304 and r2.data == b""


@BOTH_BACKENDS
def test_exif_orientation_applied_and_metadata_stripped(client, world, sup1):
    data = jpeg((800, 600), orientation=6, gps=(31.2304, 121.4737))
    digest = sha(data)
    assert put(client, sup1, data).status_code == 201
    photo = db.session.get(Photo, digest)
    assert (photo.width, photo.height) == (600, 800)  # as shown: portrait
    assert photo.captured_at.isoformat() == "2026-11-20T01:30:00+00:00"  # 09:30 at +08:00
    assert photo.lat == pytest.approx(31.2304, abs=1e-4) and photo.lng == pytest.approx(121.4737, abs=1e-4)
    db.session.rollback()  # end the test's transaction: SQLite has one writer at a time
    for variant, size in (("display", (600, 800)), ("thumb", (240, 320))):
        r = client.get(f"/api/v1/photos/{digest}?variant={variant}", headers=sup1)
        img = Image.open(io.BytesIO(r.data))
        assert img.size == size
        assert len(img.getexif()) == 0 and b"Exif" not in r.data and b"SERIAL-123456" not in r.data
        assert "icc_profile" not in img.info
        rgb = img.convert("RGB")
        # Rotated 90° clockwise: the red left half is now on top, the blue right half at the bottom.
        top, bottom = rgb.getpixel((size[0] // 2, size[1] // 8)), rgb.getpixel((size[0] // 2, size[1] * 7 // 8))
        assert top[0] > 150 and top[2] < 100 and bottom[2] > 150 and bottom[0] < 100
    manager = token_for(client, "manager")
    r = client.get(f"/api/v1/photos/{digest}?variant=original", headers=manager)
    assert r.status_code == 200 and r.data == data and r.mimetype == "image/jpeg"
    assert "attachment" in r.headers["Content-Disposition"]
    r.close()


@pytest.mark.parametrize(("fmt", "content_type"), [("PNG", "image/png"), ("WEBP", "image/webp"),
                                                   ("HEIF", "image/heic")])
def test_png_webp_heic_accepted(client, sup1, fmt, content_type):
    data = encode(fmt, (640, 480))
    r = put(client, sup1, data)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["content_type"] == content_type
    thumb = client.get(f"/api/v1/photos/{sha(data)}?variant=thumb", headers=sup1)
    assert Image.open(io.BytesIO(thumb.data)).size == (320, 240)


def test_png_with_transparency_is_flattened(client, sup1):
    data = encode("PNG", (200, 100), mode="RGBA")
    assert put(client, sup1, data).status_code == 201
    r = client.get(f"/api/v1/photos/{sha(data)}?variant=thumb", headers=sup1)
    assert Image.open(io.BytesIO(r.data)).mode == "RGB"


def _bad_uploads():
    good = jpeg()
    return {
        "text": (b"these are not the bytes you are looking for", None, 415, "not_an_image"),
        "gif": (encode("GIF"), None, 415, "unsupported_format"),
        "truncated_jpeg": (good[: len(good) // 2], None, 422, "corrupt_image"),
        "bomb_png_header": (png_header_only(50_000, 50_000), None, 413, "too_many_pixels"),
        "wrong_hash": (good, sha(b"something else"), 400, "hash_mismatch"),
        "oversized": (b"\xff\xd8" + b"\x00" * 3000, None, 413, "too_large"),
    }


@BOTH_BACKENDS
@pytest.mark.parametrize("case", list(_bad_uploads()))
def test_bad_uploads_get_status_and_json_error_and_store_nothing(client, app, sup1, case):
    app.config["MAX_PHOTO_BYTES"] = 2048
    data, digest, status, code = _bad_uploads()[case]
    if case != "oversized":
        app.config["MAX_PHOTO_BYTES"] = 20 * 1024 * 1024
    r = put(client, {**sup1, "Accept-Language": "en"}, data, digest)
    assert r.status_code == status
    error = r.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert stored_files(app) == []
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0


def test_error_message_in_users_language(client, sup1):
    r = put(client, {**sup1, "Accept-Language": "zh-CN"}, b"hello")
    assert r.status_code == 415 and "照片" in r.get_json()["error"]["message"]


def test_oversized_body_is_refused_without_reading_it(client, app, sup1):
    app.config["MAX_PHOTO_BYTES"] = 1024

    class Exploding(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, b):
            raise AssertionError("the body was read")

    r = client.put(f"/api/v1/photos/{'a' * 64}", headers=sup1,
                   environ_overrides={"wsgi.input": Exploding(), "CONTENT_LENGTH": "999999"})
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "too_large"


def test_bad_hash_in_address(client, sup1):
    r = put(client, sup1, jpeg(), "not-a-hash")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_hash"
    assert client.get("/api/v1/photos/not-a-hash", headers=sup1).status_code == 404
    assert client.head("/api/v1/photos/not-a-hash", headers=sup1).status_code == 404


def test_unknown_variant_and_anonymous(client, sup1):
    data = jpeg()
    put(client, sup1, data)
    r = client.get(f"/api/v1/photos/{sha(data)}?variant=huge", headers=sup1)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_variant"
    r = client.get(f"/api/v1/photos/{sha(data)}")
    assert r.status_code == 401 and r.is_json
    assert client.put(f"/api/v1/photos/{sha(data)}", data=data).status_code == 401


def test_concurrent_puts_store_one_copy(client, app, sup1):
    data = jpeg((1200, 900))
    statuses, errors = [], []

    def upload():
        try:
            with app.test_client() as c:
                statuses.append(put(c, sup1, data).status_code)
        except Exception as e:  # pragma: no cover - surfaced below
            errors.append(e)

    threads = [threading.Thread(target=upload) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(statuses) == [200] * 5 + [201]
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 1
    digest = sha(data)
    assert sorted(stored_files(app)) == sorted([digest, f"{digest}.display.jpg", f"{digest}.thumb.jpg"])
