"""The evidence card: watermarked display rendition (the original untouched), the evidence panel
on the finding page, the report and the share link, and the public verify page."""

import hashlib
import io
import re
from datetime import timedelta

import pytest
from PIL import Image

from tests.conftest import csrf_from
from tests.evidence.conftest import approved_report, new_id
from tests.photos.images import jpeg
from webapp.extensions import db
from webapp.photos.storage import get_store

EN = {"Accept-Language": "en"}


def _put(dev, data):
    sha = hashlib.sha256(data).hexdigest()
    r = dev.client.put(f"/api/v1/photos/{sha}", data=data,
                       headers={**dev.headers, "Content-Type": "image/jpeg", "X-Device-Time": dev.now().isoformat()})
    assert r.status_code in (200, 201), r.get_data(as_text=True)
    return sha


@pytest.fixture
def evidence(placed, clock_device):
    dev = clock_device(placed["users"]["sup1"], skew=timedelta(days=-3))
    data = jpeg((800, 600), gps=(31.2313, 121.4737))
    sha = _put(dev, data)
    fid = new_id()
    res = dev.push_one("finding", fid, {"visit_id": placed["visits"][0].id, "title": "消防通道堵塞", "photos": [sha],
                                        "captured_at": dev.now().isoformat()})
    assert res["status"] == "applied" and res["missing_photos"] == []
    return {"data": data, "sha": sha, "finding_id": fid, "dev": dev, **placed}


def test_display_rendition_carries_a_watermark_original_untouched(evidence, client, auth):
    sha, data = evidence["sha"], evidence["data"]
    plain_display = get_store().get(f"{sha}.display.jpg")
    auth.login("manager")
    r = client.get(f"/api/v1/photos/{sha}?variant=display")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    marked = r.data
    assert marked != plain_display and marked != data
    assert "immutable" not in r.headers["Cache-Control"] and r.headers["ETag"].startswith(f'"{sha}.wm-')
    # the band at the bottom is dark, the top of the picture is not
    with Image.open(io.BytesIO(marked)) as img, Image.open(io.BytesIO(plain_display)) as plain:
        assert img.size == plain.size
        w, h = img.size
        band = img.convert("L").getpixel((w - 5, h - 3))
        assert band < plain.convert("L").getpixel((w - 5, h - 3))
        assert abs(img.convert("L").getpixel((5, 5)) - plain.convert("L").getpixel((5, 5))) < 12
    # cached: made once, then served from the store
    keys = [k for k in _keys() if ".wm-" in k]
    assert len(keys) == 1
    assert client.get(f"/api/v1/photos/{sha}?variant=display").data == marked
    assert client.get(f"/api/v1/photos/{sha}?variant=display",
                      headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    # the original is byte-identical and still hashes to its name
    resp = client.get(f"/api/v1/photos/{sha}?variant=original")
    original = resp.data
    resp.close()
    assert original == data and hashlib.sha256(original).hexdigest() == sha
    assert get_store().get(sha) == data


def _keys():
    import os

    root = get_store().root if hasattr(get_store(), "root") else None
    if root is None:
        return []
    return [f for _d, _s, files in os.walk(root) for f in files]


def test_photo_without_a_record_keeps_the_plain_display(placed, clock_device):
    dev = clock_device(placed["users"]["sup1"])
    sha = _put(dev, jpeg((640, 480)))
    db.session.commit()
    r = dev.client.get(f"/api/v1/photos/{sha}?variant=display", headers=dev.headers)
    assert r.status_code == 200 and r.data == get_store().get(f"{sha}.display.jpg")
    assert "immutable" in r.headers["Cache-Control"]


def test_watermark_text_names_site_time_supervisor_hash(evidence, app):
    from webapp.evidence.watermark import watermark_context, watermark_lines
    from webapp.photos.models import Photo

    lines = watermark_lines(watermark_context(db.session.get(Photo, evidence["sha"])))
    assert "测试场所" in lines[0] and "sup1" in lines[1] and lines[2] == f"SHA-256 {evidence['sha'][:8]}"
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d \+0800", lines[1])


def test_evidence_panel_on_finding_page(evidence, client, auth):
    auth.login("manager")
    html = client.get(f"/findings/{evidence['finding_id']}", headers=EN).get_data(as_text=True)
    assert "Evidence" in html and evidence["sha"][:8] in html
    assert "Captured (device clock)" in html and "Received by the server" in html and "Estimated capture time" in html
    assert "device clock 3 days behind" in html
    assert "100 m" in html  # the photo's GPS is 100 m from the site


def test_evidence_panel_on_report_and_share_link(evidence, client, auth):
    from webapp.reports.models import Report

    auth.login("sup1")
    visit = evidence["visits"][0]
    report = Report(visit_id=visit.id, title="督导报告", author_id=evidence["users"]["sup1"].id)
    db.session.add(report)
    db.session.commit()
    html = client.get(f"/reports/{report.id}", headers=EN).get_data(as_text=True)
    assert evidence["sha"][:8] in html and "device clock 3 days behind" in html


def _verify(client, data, filename="photo.jpg", headers=None):
    token = csrf_from(client.get("/verify").get_data(as_text=True))
    return client.post("/verify", data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data", headers=headers or EN)


def test_verify_page_anonymous_match_and_no_match(evidence, client):
    r = _verify(client, evidence["data"])
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Match" in html and "matches evidence recorded on" in html
    assert "测试场所" not in html  # anonymous: the date only
    r = _verify(client, jpeg((800, 600), quality=70))
    assert r.status_code == 200 and "No match" in r.get_data(as_text=True)


def test_verify_page_signed_in_sees_the_site(evidence, client, auth):
    auth.login("manager")
    html = _verify(client, evidence["data"]).get_data(as_text=True)
    assert "at site 测试场所" in html
    auth.logout()
    auth.login("sup2")  # may not see the photo: the date only
    html = _verify(client, evidence["data"]).get_data(as_text=True)
    assert "Match" in html and "测试场所" not in html


@pytest.mark.parametrize("payload, status", [
    (b"", 415),
    (b"%PDF-1.4 not a photo", 415),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 200, 422),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", 415),
    (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + (60000).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00", 413),
])
def test_verify_page_hostile_files_never_500(client, app, payload, status):
    r = _verify(client, payload)
    assert r.status_code == status or (400 <= r.status_code < 500), r.status_code
    assert r.status_code < 500


def test_verify_page_too_large(client, app):
    app.config["MAX_PHOTO_BYTES"] = 1000
    r = _verify(client, b"\xff" * 1001)
    assert r.status_code == 413


def test_verify_needs_csrf_and_a_file(client, app):
    assert client.post("/verify", data={}).status_code == 400
    token = csrf_from(client.get("/verify").get_data(as_text=True))
    assert client.post("/verify", data={"csrf_token": token}).status_code == 400


def test_verify_page_renders_in_both_languages(client, app):
    assert "Verify a photo" in client.get("/verify", headers=EN).get_data(as_text=True)
    client.post("/locale", data={"locale": "zh_CN"})
    assert "核验照片" in client.get("/verify", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)


def test_evidence_in_the_pdf(evidence, client, auth, tmp_path):
    import subprocess

    from tests.pdf_checks import require_poppler
    from webapp.reports.models import Report

    require_poppler()
    report = Report(visit_id=evidence["visits"][0].id, title="督导报告", author_id=evidence["users"]["sup1"].id)
    db.session.add(report)
    db.session.commit()
    auth.login("sup1")
    r = client.get(f"/reports/{report.id}/report.pdf", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200
    (tmp_path / "r.pdf").write_bytes(r.data)
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert f"SHA-256 {evidence['sha'][:8]}" in text and "设备时钟慢 3 天" in text


def test_verify_page_is_rate_limited_per_address(client, app):
    app.config["VERIFY_LIMIT"] = "2 per minute"
    address = {"REMOTE_ADDR": "203.0.113.77"}
    token = csrf_from(client.get("/verify", environ_base=address).get_data(as_text=True))

    def post():
        return client.post("/verify", data={"csrf_token": token, "file": (io.BytesIO(b"not a photo"), "x.jpg")},
                           content_type="multipart/form-data", headers=EN, environ_base=address)

    assert [post().status_code for _ in range(2)] == [415, 415]
    r = post()
    assert r.status_code == 429 and "Too many checks" in r.get_data(as_text=True)
    # another address is not held back
    assert client.get("/verify", environ_base={"REMOTE_ADDR": "203.0.113.78"}).status_code == 200


def test_checkins_in_the_approved_report_share_link_and_pdf(evidence, client, auth, app, tmp_path):
    """The evidence lines of an approved report (its page, its share link, its PDF) carry the visit's
    check-ins: distance, in or out of the geofence, the reason given outside it."""
    from datetime import UTC, datetime

    from tests.pdf_checks import pdf_text, require_poppler
    from webapp.reports import operations as rops
    dev, visit = evidence["dev"], evidence["visits"][0]
    site = (31.2304, 121.4737)
    for kind, lat, reason in (("in", site[0] + 0.001, None), ("out", site[0] + 0.003, "入口施工，在街对面签退")):
        body = {"visit_id": visit.id, "kind": kind, "lat": lat, "lng": site[1], "accuracy_m": 12.5,
                "device_time": datetime.now(UTC).isoformat(), **({"reason": reason} if reason else {})}
        assert dev.push_one("visit_checkin", new_id(), body)["status"] == "applied"
    report, snap = approved_report(app, visit, evidence["users"]["sup1"], evidence["users"]["manager"])
    en = [line for f in snap.data["findings"] for line in f["evidence"]["en"]]
    zh = [line for f in snap.data["findings"] for line in f["evidence"]["zh_CN"]]
    assert any(line.startswith("Check-in · ") and "111 m from the site, inside the geofence" in line for line in en), en
    assert any(line.startswith("Check-out · ") and "334 m from the site, outside the geofence" in line
               and line.endswith("Reason: 入口施工，在街对面签退") for line in en), en
    assert any("签退" in line and "距运营场所 334 米，在地理围栏外" in line and "理由：入口施工，在街对面签退" in line
               for line in zh), zh
    auth.login("manager")
    page = client.get(f"/reports/{report.id}", headers=EN).get_data(as_text=True)
    assert "334 m from the site, outside the geofence" in page and "入口施工，在街对面签退" in page
    with app.test_request_context():
        token = rops.create_share_link(report, evidence["users"]["sup1"], 3)
    db.session.commit()
    r = client.get(f"/reports/{report.id}/report.pdf", headers={"Accept-Language": "zh-CN"})
    auth.logout()
    shared = client.get(f"/reports/shared/{token}", headers=EN).get_data(as_text=True)
    assert "111 m from the site, inside the geofence" in shared and "入口施工，在街对面签退" in shared
    require_poppler()
    (tmp_path / "r.pdf").write_bytes(r.data)
    text = " ".join(pdf_text(tmp_path / "r.pdf").split())
    assert "在地理围栏外" in text and "入口施工" in text
