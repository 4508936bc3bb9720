"""Photo markup (a vector overlay beside the untouched original) and finger signatures: strict
validation, the drawing in the display rendition and the PDF, signatures on the visit, the report
and the acceptance, and the before/after pairs."""

import hashlib
import io
import json
import math
from datetime import date

import pytest
from flask_babel import force_locale
from PIL import Image

from tests.conftest import csrf_from
from tests.evidence.conftest import approved_report, new_id
from tests.evidence.test_photos import _put
from tests.pdf_checks import band_at_bottom, dark_strokes, pdf_text, pictures, render, require_poppler
from tests.photos.images import jpeg
from webapp.evidence.markup import (
    MAX_SHAPES,
    MarkupInvalid,
    draw_shapes,
    signature_png,
    validate_markup,
    validate_signature,
)
from webapp.extensions import db
from webapp.photos.storage import get_store

EN = {"Accept-Language": "en"}
SHA = "a" * 64
CIRCLE = {"kind": "circle", "color": "red", "x1": 0.3, "y1": 0.3, "x2": 0.7, "y2": 0.7}
SIG = {"signer": "王店长", "signed_at": "2026-11-20T09:05:00+08:00",
       "strokes": [[[0.1, 0.5], [0.3, 0.2], [0.5, 0.8], [0.9, 0.4]], [[0.2, 0.9]]]}


# ---- validation --------------------------------------------------------------------------------

def test_valid_markup_is_normalized():
    shapes = [CIRCLE, {"kind": "arrow", "color": "yellow", "x1": 0, "y1": 1, "x2": 1, "y2": 0},
              {"kind": "rect", "x1": 0.1, "y1": 0.1, "x2": 0.2, "y2": 0.2},
              {"kind": "text", "color": "white", "x1": 0.5, "y1": 0.5, "text": "  通道堵塞 "}]
    out = validate_markup({SHA: shapes, "b" * 64: []})
    assert list(out) == [SHA]  # a photo without shapes is left out
    assert out[SHA][2]["color"] == "red" and out[SHA][3]["text"] == "通道堵塞"
    assert validate_markup(None) == {}


@pytest.mark.parametrize("value, words", [
    ([CIRCLE], "must be an object"),
    ({"nothex": [CIRCLE]}, "SHA-256"),
    ({SHA.upper(): [CIRCLE]}, "SHA-256"),
    ({SHA: CIRCLE}, "list of shapes"),
    ({SHA: [CIRCLE] * (MAX_SHAPES + 1)}, f"At most {MAX_SHAPES} shapes"),
    ({SHA: [{**CIRCLE, "kind": "star"}]}, "circle, a rectangle"),
    ({SHA: [{**CIRCLE, "color": "#ff0000"}]}, "red, yellow or white"),
    ({SHA: [{**CIRCLE, "x2": 1.5}]}, "from 0 to 1"),
    ({SHA: [{**CIRCLE, "y1": -0.01}]}, "from 0 to 1"),
    ({SHA: [{**CIRCLE, "x1": math.nan}]}, "must be a number"),
    ({SHA: [{**CIRCLE, "x1": True}]}, "must be a number"),
    ({SHA: [{**CIRCLE, "x1": "0.5"}]}, "must be a number"),
    ({SHA: [{k: v for k, v in CIRCLE.items() if k != "y2"}]}, "position is missing"),
    ({SHA: [{**CIRCLE, "onclick": "x"}]}, "unknown field"),
    ({SHA: [{**CIRCLE, "text": "x"}]}, "unknown field"),
    ({SHA: [{"kind": "text", "x1": 0.1, "y1": 0.1, "text": "x" * 201}]}, "at most 200 characters"),
    ({SHA: [{"kind": "text", "x1": 0.1, "y1": 0.1, "text": "a\x00b"}]}, "control character"),
    ({SHA: [{"kind": "text", "x1": 0.1, "y1": 0.1, "text": "   "}]}, "needs its text"),
    ({SHA: ["circle"]}, "must be an object"),
])
def test_bad_markup_is_refused_with_a_clear_message(app, value, words):
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(MarkupInvalid) as e:
            validate_markup(value)
        assert words in str(e.value.message)


def test_signature_validation(app):
    out = validate_signature(SIG)
    assert out["signer"] == "王店长" and len(out["strokes"]) == 2
    bad = [
        ({**SIG, "signer": ""}, "name of the person"),
        ({**SIG, "signer": "x" * 81}, "at most 80"),
        ({**SIG, "signed_at": "2026-11-20T09:05:00"}, "time zone"),
        ({**SIG, "signed_at": "yesterday"}, "time zone"),
        ({**SIG, "strokes": []}, "empty"),
        ({**SIG, "strokes": [[[0.1, 1.2]]]}, "from 0 to 1"),
        ({**SIG, "strokes": [[[0.1]]]}, "pair"),
        ({**SIG, "strokes": [[[0.5, 0.5]] * 1000] * 6}, "at most 5000 points"),
        ({**SIG, "strokes": [[[0.5, 0.5]]] * 101}, "at most 100 strokes"),
        ({**SIG, "extra": 1}, "Unknown field"),
        ("王店长", "must be an object"),
    ]
    with app.test_request_context(), force_locale("en"):
        for value, words in bad:
            with pytest.raises(MarkupInvalid) as e:
                validate_signature(value)
            assert words in str(e.value.message), value


# ---- drawing -----------------------------------------------------------------------------------

def _grey(size=(400, 300)):
    return Image.new("RGB", size, (128, 128, 128))


def test_draw_shapes_draws_where_the_circle_is():
    out = draw_shapes(_grey(), [CIRCLE])
    # the ellipse inscribed in (120, 90)–(280, 210): its left edge at x≈120, y=150 is red
    r, g, b = out.getpixel((120, 150))
    assert r > 200 and g < 80 and b < 80
    assert out.getpixel((200, 150)) == (128, 128, 128)  # the inside is not filled
    assert out.getpixel((10, 10)) == (128, 128, 128)  # far away: untouched


def test_every_kind_draws_something(app):
    base = _grey()
    for shape in ({"kind": "arrow", "color": "yellow", "x1": 0.1, "y1": 0.1, "x2": 0.9, "y2": 0.9},
                  {"kind": "rect", "color": "white", "x1": 0.1, "y1": 0.1, "x2": 0.9, "y2": 0.9},
                  {"kind": "text", "color": "red", "x1": 0.1, "y1": 0.1, "text": "消防通道"}):
        assert draw_shapes(base, [shape]).tobytes() != base.tobytes(), shape


def test_signature_png():
    png = signature_png(SIG, width=300)
    with Image.open(io.BytesIO(png)) as im:
        assert im.size == (300, 100)
        dark = sum(1 for p in im.convert("L").get_flattened_data() if p < 100)
    assert dark > 50


# ---- through sync: the rendition, the panel, the PDF -------------------------------------------

@pytest.fixture
def marked(placed, clock_device):
    dev = clock_device(placed["users"]["sup1"])
    data = jpeg((800, 600))
    sha = _put(dev, data)
    fid = new_id()
    res = dev.push_one("finding", fid, {"visit_id": placed["visits"][0].id, "title": "消防通道堵塞", "photos": [sha],
                                        "captured_at": dev.now().isoformat()})
    assert res["status"] == "applied"
    return {"data": data, "sha": sha, "finding_id": fid, "dev": dev, **placed}


def _display(client, sha):
    r = client.get(f"/api/v1/photos/{sha}?variant=display")
    assert r.status_code == 200
    with Image.open(io.BytesIO(r.data)) as im:
        return im.convert("RGB")


def test_bad_markup_push_is_rejected_on_its_field(marked):
    dev = marked["dev"]
    res = dev.push_one("finding", marked["finding_id"], {"markup": {marked["sha"]: [{**CIRCLE, "x2": 7}]}},
                       base_version=1)
    assert res["status"] == "rejected" and "markup" in res["errors"]
    assert "0 to 1" in json.dumps(res["errors"]) or "0" in json.dumps(res["errors"])


def test_markup_is_drawn_into_the_display_rendition_original_unchanged(marked, client, auth):
    sha, data, dev = marked["sha"], marked["data"], marked["dev"]
    auth.login("manager")
    before = _display(client, sha)
    res = dev.push_one("finding", marked["finding_id"], {"markup": {sha: [CIRCLE]}}, base_version=1)
    assert res["status"] == "applied", res
    after = _display(client, sha)
    assert before.size == after.size
    w, h = after.size
    x, y = round(0.3 * (w - 1)), round(0.5 * (h - 1))  # the circle's left edge
    r, g, b = after.getpixel((x, y))
    r0, g0, b0 = before.getpixel((x, y))
    assert r > 180 and g < 90 and b < 90 and (r0, g0, b0) != (r, g, b)
    cx, cy = round(0.5 * (w - 1)), round(0.5 * (h - 1))
    assert sum(abs(a - c) for a, c in zip(after.getpixel((cx, cy)), before.getpixel((cx, cy)), strict=True)) < 40
    # the original: byte-identical, same hash
    resp = client.get(f"/api/v1/photos/{sha}?variant=original")
    assert resp.data == data and hashlib.sha256(resp.data).hexdigest() == sha
    resp.close()
    assert get_store().get(sha) == data
    # the finding page's evidence panel says so; the pull carries the overlay
    html = client.get(f"/findings/{marked['finding_id']}", headers=EN).get_data(as_text=True)
    assert "marked up" in html and "the original is unchanged" in html
    changes = [c for c in dev.pull()["changes"] if c["entity"] == "finding" and c["id"] == marked["finding_id"]]
    assert changes[-1]["data"]["markup"] == {sha: [CIRCLE]}
    # markup removed: the rendition goes back to the unmarked one
    dev.push_one("finding", marked["finding_id"], {"markup": {}}, base_version=2)
    plain = _display(client, sha)
    assert sum(abs(a - c) for a, c in zip(plain.getpixel((x, y)), before.getpixel((x, y)), strict=True)) < 40


def _check_pdf_picture(pdf, sha):
    """The PDF as rendered: the photo carries the red markup and the watermark band, and the
    signature is drawn (dark strokes in its picture), not only captioned."""
    pages = render(pdf, DPI)
    placed = pictures(pdf)
    photos = [p for p in placed if p.width / p.height < 2]
    signatures = [p for p in placed if p.width / p.height > 2.5]  # drawn 3:1
    assert photos and signatures, placed
    photo = photos[0].crop(pages[photos[0].page - 1], DPI)
    reds = sum(1 for p in photo.get_flattened_data() if p[0] > 180 and p[1] < 80 and p[2] < 80)
    assert reds > 20  # the red circle on the photo (and the picture's own red half)
    assert band_at_bottom(photo), "no watermark band along the photo's bottom"
    # the band darkens the picture's red half: dark red under the bright red
    w, h = photo.size
    px = photo.load()
    dark_red = [(x, y) for y in range(h) for x in range(w // 2) if 50 < px[x, y][0] < 130 and px[x, y][1] < 50]
    assert len(dark_red) > 50 and min(y for _x, y in dark_red) > h * 0.6
    sig = signatures[0].crop(pages[signatures[0].page - 1], DPI)
    assert dark_strokes(sig) > 30, "the signature is not drawn"
    assert sha[:8] in pdf_text(pdf)  # the evidence line names the short hash the band shows


DPI = 100


def test_pdf_shows_watermark_markup_and_signature(marked, client, auth, tmp_path):
    from webapp.reports.models import Report

    require_poppler()
    dev, sha = marked["dev"], marked["sha"]
    dev.push_one("finding", marked["finding_id"], {"markup": {sha: [{**CIRCLE, "color": "red"}]}}, base_version=1)
    visit = marked["visits"][0]
    assert dev.push_one("visit", visit.id, {"opening_signature": SIG}, base_version=visit.version)["status"] == "applied"
    report = Report(visit_id=visit.id, title="督导报告", author_id=marked["users"]["sup1"].id)
    db.session.add(report)
    db.session.commit()
    auth.login("sup1")
    r = client.get(f"/reports/{report.id}/report.pdf", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(r.data)
    text = pdf_text(pdf)
    assert "王店长" in text and "首次会议签字" in text.replace(" ", "")
    _check_pdf_picture(pdf, sha)


def test_approved_pdf_draws_the_frozen_band(marked, client, auth, app, tmp_path, monkeypatch):
    """An approved version's PDF draws the band frozen in its snapshot, whatever changes after."""
    require_poppler()
    dev, sha = marked["dev"], marked["sha"]
    dev.push_one("finding", marked["finding_id"], {"markup": {sha: [CIRCLE]}}, base_version=1)
    visit = marked["visits"][0]
    assert dev.push_one("visit", visit.id, {"opening_signature": SIG}, base_version=visit.version)["status"] == "applied"
    report, snap = approved_report(app, visit, marked["users"]["sup1"], marked["users"]["manager"])
    assert snap.data["bands"][sha][-1] == f"SHA-256 {sha[:8]}"
    snap.data = {**snap.data, "bands": {sha: ["冻结的工地", "2026-11-20 09:30 +0800 · 冻结", f"SHA-256 {sha[:8]}"]}}
    db.session.commit()  # a band only the snapshot has: the PDF must draw it, not today's
    from webapp.reports import snapshots
    from webapp.reports.pdf import document_bands

    with app.test_request_context():
        assert document_bands(snap.data, frozen=True)[sha][0] == "冻结的工地"

    def live(*_a, **_k):
        raise AssertionError("an approved report's PDF read the live bands")

    monkeypatch.setattr(snapshots, "watermark_bands", live)
    auth.login("manager")
    r = client.get(f"/reports/{report.id}/report.pdf", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(r.data)
    _check_pdf_picture(pdf, sha)


def test_signature_on_visit_and_report_pages(marked, client, auth):
    from webapp.reports.models import Report

    dev, visit = marked["dev"], marked["visits"][0]
    res = dev.push_one("visit", visit.id, {"opening_signature": {**SIG, "strokes": [[[0.5, 1.5]]]}},
                       base_version=visit.version)
    assert res["status"] == "rejected" and "opening_signature" in res["errors"]
    res = dev.push_one("visit", visit.id, {"opening_signature": SIG, "closing_signature": {**SIG, "signer": "李经理"}},
                       base_version=visit.version)
    assert res["status"] == "applied"
    db.session.refresh(visit)
    assert visit.opening_signature["signer"] == "王店长" and visit.closing_signature["signer"] == "李经理"
    auth.login("manager")
    html = client.get(f"/visits/{visit.id}", headers=EN).get_data(as_text=True)
    assert "Signature at the opening meeting" in html and "王店长" in html and "<polyline" in html
    assert "Signature at the closing meeting" in html and "李经理" in html
    report = Report(visit_id=visit.id, title="督导报告", author_id=marked["users"]["sup1"].id)
    db.session.add(report)
    db.session.commit()
    html = client.get(f"/reports/{report.id}", headers=EN).get_data(as_text=True)
    assert "Signatures" in html and "王店长" in html and "<polyline" in html


# ---- acceptance: signature, before/after -------------------------------------------------------

LATER = date(2026, 11, 30)


@pytest.fixture
def pending(marked):
    from webapp.findings.models import Finding
    from webapp.findings.review import confirm_finding
    from webapp.rectification import operations as ops

    f = db.session.get(Finding, marked["finding_id"])
    confirm_finding(f, marked["users"]["manager"])  # synced from a phone: management confirms it first
    head = marked["users"]["head1"]
    assert f.department_id == head.department_id
    after = _put(marked["dev"], jpeg((640, 480), quality=60))
    ops.submit_plan(f, head, "清理通道", "员工甲", LATER)
    ops.add_progress(f, head, "已清理", 100, [after])
    ops.submit_for_acceptance(f, head)
    db.session.commit()
    return {**marked, "after": after, "finding": f}


def _decide(client, fid, **data):
    token = csrf_from(client.get(f"/rectification/{fid}", headers=EN).get_data(as_text=True))
    return client.post(f"/rectification/{fid}/decide", data={"csrf_token": token, **data}, headers=EN)


def test_acceptance_screen_pairs_before_and_after_and_takes_a_signature(pending, client, auth):
    from webapp.rectification.models import AcceptanceRound

    auth.login("sup1")
    fid = pending["finding_id"]
    html = client.get(f"/rectification/{fid}", headers=EN).get_data(as_text=True)
    assert "Before and after" in html and pending["sha"] in html and pending["after"] in html
    assert html.index(pending["sha"]) < html.index(pending["after"])
    assert "data-signature-pad" in html and "acceptance-signature.js" in html
    # bad signatures: 400 with the reason, nothing decided
    r = _decide(client, fid, result="pass", signer="王店长", signature="not json")
    assert r.status_code == 400 and "could not be read" in r.get_data(as_text=True)
    r = _decide(client, fid, result="pass", signer="", signature=json.dumps(SIG["strokes"]))
    assert r.status_code == 400 and "Give the name of the person who signs" in r.get_data(as_text=True)
    r = _decide(client, fid, result="pass", signer="王店长", signature=json.dumps([[[0.1, 9]]]))
    assert r.status_code == 400 and "from 0 to 1" in r.get_data(as_text=True)
    r = _decide(client, fid, result="pass", signer="王店长", signature="")
    assert r.status_code == 400 and "Sign in the box first" in r.get_data(as_text=True)
    assert db.session.query(AcceptanceRound).count() == 0
    r = _decide(client, fid, result="pass", signer="王店长", signature=json.dumps(SIG["strokes"]))
    assert r.status_code == 303
    rnd = db.session.query(AcceptanceRound).one()
    assert rnd.signature["signer"] == "王店长" and rnd.signature["strokes"] == SIG["strokes"]
    html = client.get(f"/rectification/{fid}", headers=EN).get_data(as_text=True)
    assert "Signature at acceptance" in html and "王店长" in html and "<polyline" in html


def test_acceptance_without_signature_still_works(pending, client, auth):
    auth.login("sup1")
    assert _decide(client, pending["finding_id"], result="pass").status_code == 303


def test_report_shows_before_and_after_and_share_link_serves_both(pending, client, auth):
    from webapp.reports import operations as rops
    from webapp.reports.models import Report

    visit = pending["visits"][0]
    report = Report(visit_id=visit.id, title="督导报告", author_id=pending["users"]["sup1"].id)
    db.session.add(report)
    db.session.commit()
    auth.login("sup1")
    html = client.get(f"/reports/{report.id}", headers=EN).get_data(as_text=True)
    assert "After rectification" in html and pending["after"] in html
    assert html.index(pending["sha"]) < html.index(pending["after"])
    report.status = "approved"  # only an approved report is shared
    db.session.commit()
    token = rops.create_share_link(report, pending["users"]["sup1"], 3)
    db.session.commit()
    auth.logout()
    shared = client.get(f"/reports/shared/{token}", headers=EN).get_data(as_text=True)
    assert pending["after"] in shared
    assert client.get(f"/reports/shared/{token}/photos/{pending['after']}").status_code == 200
    assert client.get(f"/reports/shared/{token}/photos/{'c' * 64}").status_code == 404


def test_pdf_before_after_labels(pending, client, auth, tmp_path):
    from webapp.reports.models import Report

    require_poppler()
    visit = pending["visits"][0]
    report = Report(visit_id=visit.id, title="督导报告", author_id=pending["users"]["sup1"].id)
    db.session.add(report)
    db.session.commit()
    auth.login("sup1")
    r = client.get(f"/reports/{report.id}/report.pdf", headers=EN)
    (tmp_path / "r.pdf").write_bytes(r.data)
    text = pdf_text(tmp_path / "r.pdf")
    assert "Before rectification" in text and "After rectification" in text


def test_markup_of_another_supervisors_finding_is_refused(marked, clock_device):
    other = clock_device(marked["users"]["sup2"])
    res = other.push_one("finding", marked["finding_id"], {"markup": {marked["sha"]: [CIRCLE]}}, base_version=1)
    assert res["status"] == "rejected" and "id" in res["errors"]


def test_concurrent_markup_is_a_conflict_never_a_silent_overwrite(marked, clock_device):
    sha, fid = marked["sha"], marked["finding_id"]
    second = clock_device(marked["users"]["sup1"])  # the supervisor's second phone
    assert marked["dev"].push_one("finding", fid, {"markup": {sha: [CIRCLE]}}, base_version=1)["status"] == "applied"
    yellow = {**CIRCLE, "color": "yellow"}
    res = second.push_one("finding", fid, {"markup": {sha: [yellow]}}, base_version=1)
    assert res["status"] == "conflict" and [c["field"] for c in res["conflicts"]] == ["markup"]
    from webapp.findings.models import Finding

    db.session.expire_all()
    assert db.session.get(Finding, fid).markup == {sha: [CIRCLE]}
