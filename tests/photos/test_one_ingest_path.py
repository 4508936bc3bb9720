"""Every upload, from any desk form or the API, goes through the one verified ingest path
(webapp/photos/ingest.py): pixel cap, HEIC, renditions made at upload without metadata. PDFs embed
the stored renditions, never the originals."""

import io
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from tests.conftest import csrf_from
from tests.photos.images import jpeg, picture, png_header_only, sha
from tests.photos.test_api import put, token_for
from webapp.extensions import db
from webapp.photos.models import Photo
from webapp.photos.storage import get_store
from webapp.plans.models import Attachment, Plan
from webapp.rectification.models import RectificationUpdate
from webapp.rectification.operations import submit_plan

EN = {"Accept-Language": "en"}


def heic() -> bytes:
    out = io.BytesIO()
    picture((400, 300)).save(out, "HEIF")
    return out.getvalue()


@pytest.fixture
def rectifying(world, client, auth):
    """head1 is signed in on the desk; sup1's finding is being rectified by D1."""
    finding = world["findings"][0]
    submit_plan(finding, world["users"]["head1"], "fix", "Li", date.today() + timedelta(days=5))
    fid = finding.id
    db.session.commit()
    auth.login("head1")
    return fid, csrf_from(client.get("/").get_data(as_text=True))


def _progress(client, rectifying, data, name):
    fid, token = rectifying
    db.session.rollback()
    return client.post(f"/rectification/{fid}/progress", headers=EN, content_type="multipart/form-data",
                       data={"csrf_token": token, "progress": "30", "photos": (io.BytesIO(data), name)})


@pytest.mark.parametrize("side", [13_000, 30_000])  # a 13000² PNG was stored; a 30000² one was a 500
def test_progress_form_refuses_a_decompression_bomb(client, app, rectifying, side):
    r = _progress(client, rectifying, png_header_only(side, side), "bomb.png")
    assert r.status_code == 400
    assert "The photo has too many pixels to be processed safely." in r.get_data(as_text=True)
    assert db.session.scalar(select(Photo)) is None and db.session.scalar(select(RectificationUpdate)) is None


def test_progress_form_makes_renditions_at_upload_without_metadata(client, app, rectifying):
    data = jpeg((800, 600), orientation=6, gps=(31.2304, 121.4737))
    assert _progress(client, rectifying, data, "p.jpg").status_code == 303
    photo = db.session.get(Photo, sha(data))
    assert (photo.width, photo.height) == (600, 800) and photo.lat == pytest.approx(31.2304, abs=1e-4)
    assert set(photo.variants) == {"display", "thumb"}
    shown = get_store().get(f"{photo.sha256}.display.jpg")  # already there: no GET renders it
    assert Image.open(io.BytesIO(shown)).size == (600, 800)
    assert b"Exif" not in shown and b"SERIAL-123456" not in shown
    assert db.session.scalar(select(RectificationUpdate)).photos == [photo.sha256]


def test_progress_form_takes_heic(client, app, rectifying):
    data = heic()
    assert _progress(client, rectifying, data, "IMG_0001.HEIC").status_code == 303
    photo = db.session.get(Photo, sha(data))
    assert photo.content_type == "image/heic" and get_store().exists(f"{photo.sha256}.thumb.jpg")


def test_plan_note_image_attachments_go_through_the_ingest_path(client, auth, world):
    from tests.plans.test_views import _new_plan, _plan, _token

    auth.login("sup1")
    _new_plan(client)
    plan_id = _plan().id
    bomb = client.post(f"/plans/{plan_id}/notes", content_type="multipart/form-data", headers=EN, data={
        "kind": "gather", "body": "x", "csrf_token": _token(client),
        "files": [(io.BytesIO(png_header_only(13_000, 13_000)), "floor.png")]})
    assert bomb.status_code == 400 and "too many pixels" in bomb.get_data(as_text=True)
    data = jpeg((800, 600), gps=(31.2304, 121.4737))
    ok = client.post(f"/plans/{plan_id}/notes", content_type="multipart/form-data", data={
        "kind": "gather", "body": "门店照片", "csrf_token": _token(client),
        "files": [(io.BytesIO(data), "store.jpg"), (io.BytesIO(heic()), "door.heic")]})
    assert ok.status_code == 302
    db.session.rollback()
    atts = db.session.scalars(select(Attachment).order_by(Attachment.filename)).all()
    assert [(a.filename, a.content_type) for a in atts] == [("door.heic", "image/heic"), ("store.jpg", "image/jpeg")]
    assert all(db.session.get(Photo, a.sha256) is not None for a in atts)
    got = client.get(f"/plans/attachments/{atts[1].id}")
    assert got.status_code == 200 and got.mimetype == "image/jpeg"
    assert b"Exif" not in got.data and b"SERIAL-123456" not in got.data  # the display rendition, stripped
    assert Image.open(io.BytesIO(got.data)).size == (800, 600)
    assert db.session.get(Plan, plan_id) is not None


def test_report_pdf_embeds_the_stored_thumbnail_not_the_original(app, client, world):
    from webapp.reports import operations as report_ops
    from webapp.reports.pdf import render_report_pdf

    data = jpeg((1200, 900))
    digest = sha(data)
    assert put(client, token_for(client, "sup1"), data).status_code == 201
    world["findings"][0].photos = [digest]
    db.session.commit()
    thumb = get_store().get(f"{digest}.thumb.jpg")
    get_store().delete(digest)  # the original is not needed (nor read) for a PDF
    with app.test_request_context():
        report = report_ops.create_report(world["visits"][0], world["users"]["sup1"])
        pdf = render_report_pdf(report, [world["findings"][0]])
    # Made from the stored thumbnail (the original is gone): a small JPEG of the thumbnail's size, with
    # the watermark band drawn on it (webapp/reports/pdf.py), never the 1200×900 original.
    import io

    from PIL import Image

    w, h = Image.open(io.BytesIO(thumb)).size
    assert max(w, h) <= 320
    assert f"/Width {w}".encode() in pdf and f"/Height {h}".encode() in pdf
    assert b"/Width 1200" not in pdf and b"/DCTDecode" in pdf
