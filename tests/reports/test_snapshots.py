"""An approved report is a frozen document (webapp/reports/snapshots.py): page, PDF and share link
render from the snapshot; a later change to a finding changes none of them; a new approved version
has its own snapshot and hash."""

import re
import subprocess
from datetime import date

import pytest
from sqlalchemy import select

from tests.pdf_checks import require_poppler
from tests.review_helpers import post
from webapp.extensions import db
from webapp.findings.review import correct_finding
from webapp.reports import operations as ops
from webapp.reports.models import ReportSnapshot
from webapp.reports.snapshots import canonical, document_hash

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def approved(world, app):
    u = world["users"]
    with app.test_request_context():
        r = ops.create_report(world["visits"][0], u["sup1"])
        ops.submit_report(r, u["sup1"])
        ops.review_report(r, u["manager"], "approve")
    db.session.commit()
    return r


def _pdf_text(client, report, tmp_path):
    require_poppler()
    r = client.get(f"/reports/{report.id}/report.pdf", headers=ZH)
    assert r.status_code == 200
    (tmp_path / "r.pdf").write_bytes(r.data)
    return subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout


def _body(html):
    return re.search(r'<article class="card report-body">.*?</article>', html, re.S).group(0)


def test_approval_stores_the_snapshot_and_its_hash(approved, world):
    snap = db.session.scalar(select(ReportSnapshot).where(ReportSnapshot.report_id == approved.id))
    assert snap.version_no == 1 and snap.approved_by == world["users"]["manager"].id
    assert snap.sha256 == document_hash(snap.data) and len(snap.sha256) == 64
    assert [f["title"] for f in snap.data["findings"]] == ["一部的问题"]
    assert snap.data["findings"][0]["severity"] == "medium"
    assert canonical(snap.data) == canonical(dict(reversed(list(snap.data.items()))))  # key order free


def test_a_later_change_changes_neither_page_pdf_nor_share_link(approved, world, client, auth, tmp_path, app):
    u = world["users"]
    auth.login("sup1")
    page_before = _body(client.get(f"/reports/{approved.id}", headers=ZH).get_data(as_text=True))
    pdf_before = _pdf_text(client, approved, tmp_path)
    with app.test_request_context():
        token = ops.create_share_link(approved, u["sup1"])
    db.session.commit()
    shared_before = _body(client.get(f"/reports/shared/{token}", headers=ZH).get_data(as_text=True))
    assert "一般" in pdf_before and "SHA-256" in pdf_before

    f = world["findings"][0]
    correct_finding(f, u["manager"], {"severity": "critical", "title": "一部的严重问题"}, "复核后升级")
    db.session.commit()

    assert _body(client.get(f"/reports/{approved.id}", headers=ZH).get_data(as_text=True)) == page_before
    assert _pdf_text(client, approved, tmp_path) == pdf_before
    assert _body(client.get(f"/reports/shared/{token}", headers=ZH).get_data(as_text=True)) == shared_before
    assert "一部的严重问题" not in pdf_before

    # re-approving after the change: a new version with the change and its own hash
    with app.test_request_context():
        v2 = ops.new_version(approved, u["sup1"])
        ops.submit_report(v2, u["sup1"])
        ops.review_report(v2, u["manager"], "approve")
    db.session.commit()
    snaps = db.session.scalars(select(ReportSnapshot).order_by(ReportSnapshot.version_no)).all()
    assert [s.version_no for s in snaps] == [1, 2] and snaps[0].sha256 != snaps[1].sha256
    text = _pdf_text(client, v2, tmp_path)
    assert "一部的严重问题" in text and "重大" in text and snaps[1].sha256 in text.replace("\n", "")
    html = client.get(f"/reports/{v2.id}", headers=ZH).get_data(as_text=True)
    assert snaps[0].sha256[:16] in html and snaps[1].sha256[:16] in html  # versions listed with their hashes


def test_a_draft_is_live(world, app, client, auth):
    with app.test_request_context():
        r = ops.create_report(world["visits"][0], world["users"]["sup1"])
    db.session.commit()
    correct_finding(world["findings"][0], world["users"]["manager"], {"title": "改过的标题"}, "更准确")
    db.session.commit()
    auth.login("sup1")
    assert "改过的标题" in client.get(f"/reports/{r.id}").get_data(as_text=True)


def test_a_rejected_finding_is_not_in_the_next_report(world, app):
    from webapp.findings.review import reject_finding

    reject_finding(world["findings"][0], world["users"]["manager"], "不是问题")
    db.session.commit()
    with app.test_request_context():
        r = ops.create_report(world["visits"][0], world["users"]["sup1"])
    assert "一部的问题" not in (r.problems or "")


def test_approve_needs_csrf(world, app, client, auth):
    with app.test_request_context():
        r = ops.create_report(world["visits"][0], world["users"]["sup1"])
        ops.submit_report(r, world["users"]["sup1"])
    db.session.commit()
    auth.login("manager")
    client.get("/")
    assert client.post(f"/reports/{r.id}/approve", data={}).status_code == 400
    assert post(client, f"/reports/{r.id}/approve").status_code in (303, 302, 401, 403)


# ---- what landed beside the snapshot: markup, before/after, signatures -------------------------

SIG = {"signer": "王店长", "signed_at": "2026-11-20T09:05:00+08:00", "strokes": [[[0.1, 0.5], [0.4, 0.2], [0.8, 0.6]]]}
CIRCLE = [{"kind": "circle", "color": "red", "x1": 0.2, "y1": 0.2, "x2": 0.6, "y2": 0.6}]
ARROW = [{"kind": "arrow", "color": "yellow", "x1": 0.9, "y1": 0.9, "x2": 0.5, "y2": 0.1}]


def _photo(seed):
    import hashlib

    from tests.photos.images import jpeg
    from webapp.photos.operations import process_upload, save_photo

    data = jpeg((320 + seed, 240))
    sha = hashlib.sha256(data).hexdigest()
    save_photo(sha, data, process_upload(data), None)
    return sha


@pytest.fixture
def marked_report(world, app):
    """An approved report whose finding has a marked-up photo, an after-rectification photo and an
    acceptance signature, and whose visit has an opening signature."""
    from webapp.rectification.models import AcceptanceRound, Rectification, RectificationUpdate

    u, f, visit = world["users"], world["findings"][0], world["visits"][0]
    before, after = _photo(1), _photo(2)
    f.photos, f.markup = [before], {before: CIRCLE}
    visit.opening_signature = SIG
    rect = Rectification(finding_id=f.id, measures="清理", owner="吴敏", deadline=date(2026, 12, 1),
                         submitted_by=u["head1"].id)
    db.session.add(rect)
    db.session.flush()
    db.session.add_all([RectificationUpdate(finding_id=f.id, note="已清理", progress=100, photos=[after],
                                            author_id=u["head1"].id),
                        AcceptanceRound(rectification_id=rect.id, round=1, result="fail", reason="未完成",
                                        decided_by=u["sup1"].id, signature={**SIG, "signer": "李店长"})])
    db.session.commit()
    with app.test_request_context():
        r = ops.create_report(visit, u["sup1"])
        ops.submit_report(r, u["sup1"])
        ops.review_report(r, u["manager"], "approve")
    db.session.commit()
    return {"report": r, "finding": f, "before": before, "after": after}


def _get(client, url):
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return r.data


def test_the_snapshot_carries_markup_before_after_and_signatures(marked_report, world):
    snap = db.session.scalar(select(ReportSnapshot).where(ReportSnapshot.report_id == marked_report["report"].id))
    [doc] = snap.data["findings"]
    before, after = marked_report["before"], marked_report["after"]
    assert doc["markup"] == {before: CIRCLE} and doc["after_photos"] == [after]
    assert [s["signer"] for s in doc["acceptance_signatures"]] == ["李店长"]
    assert snap.data["signatures"] == {"opening": SIG, "closing": None}
    assert snap.data["bands"][before][2] == f"SHA-256 {before[:8]}"  # the watermark band, frozen too
    assert snap.sha256 == document_hash(snap.data)


def test_a_later_markup_rectification_or_signature_changes_nothing_approved(marked_report, world, client, auth,
                                                                           tmp_path, app):
    from webapp.evidence.markup import marked_jpeg
    from webapp.evidence.watermark import draw_watermark
    from webapp.photos.storage import get_store
    from webapp.rectification.models import RectificationUpdate
    from webapp.reports.snapshots import snapshot_of

    u, r, f = world["users"], marked_report["report"], marked_report["finding"]
    before, after = marked_report["before"], marked_report["after"]
    auth.login("sup1")
    with app.test_request_context():
        token = ops.create_share_link(r, u["sup1"])
    db.session.commit()
    urls = [f"/reports/{r.id}/photos/{before}?variant=thumb", f"/reports/{r.id}/photos/{before}?variant=display",
            f"/reports/shared/{token}/photos/{before}?variant=display", f"/reports/{r.id}/photos/{after}?variant=thumb"]
    page = _body(client.get(f"/reports/{r.id}", headers=ZH).get_data(as_text=True))
    shared = _body(client.get(f"/reports/shared/{token}", headers=ZH).get_data(as_text=True))
    pdf = client.get(f"/reports/{r.id}/report.pdf", headers=ZH).data
    photos = [_get(client, url) for url in urls]
    thumb = get_store().get(f"{before}.thumb.jpg")
    assert photos[0] != thumb and photos[0] == marked_jpeg(thumb, CIRCLE, quality=85)  # the circle, drawn
    band = snapshot_of(r).data["bands"][before]
    assert band[-1] == f"SHA-256 {before[:8]}"
    # the PDF's photo carries the approved markup under the frozen watermark band
    with app.test_request_context():
        in_pdf = draw_watermark(thumb, band, CIRCLE)
    assert in_pdf in pdf and marked_jpeg(thumb, CIRCLE, quality=85) not in pdf
    assert f"/reports/{r.id}/photos/{before}" in page and "王店长" in page and "李店长" in page
    assert "整改前" in page and "整改后" in page and f"/reports/shared/{token}/photos/{after}" in shared
    live_display = _get(client, f"/api/v1/photos/{before}?variant=display")

    # Later: new markup, another rectification photo, the closing signature, a changed severity.
    third = _photo(3)
    f.markup = {before: ARROW}
    f.visit.closing_signature = {**SIG, "signer": "赵经理"}
    db.session.add(RectificationUpdate(finding_id=f.id, note="再次整改", progress=100, photos=[third],
                                       author_id=u["head1"].id))
    db.session.commit()
    correct_finding(f, u["manager"], {"severity": "critical"}, "复核后升级")
    db.session.commit()

    assert _get(client, f"/api/v1/photos/{before}?variant=display") != live_display  # the live photo changed
    assert _body(client.get(f"/reports/{r.id}", headers=ZH).get_data(as_text=True)) == page
    assert _body(client.get(f"/reports/shared/{token}", headers=ZH).get_data(as_text=True)) == shared
    assert [_get(client, url) for url in urls] == photos
    pdf_after = client.get(f"/reports/{r.id}/report.pdf", headers=ZH).data
    with app.test_request_context():
        assert in_pdf in pdf_after and draw_watermark(thumb, band, ARROW) not in pdf_after
    assert client.get(f"/reports/{r.id}/photos/{third}?variant=thumb").status_code == 404  # not in the approved one
    assert client.get(f"/reports/shared/{token}/photos/{third}?variant=thumb").status_code == 404
    assert _pdf_text(client, r, tmp_path).count("赵经理") == 0

    # Version 2 shows the change.
    with app.test_request_context():
        v2 = ops.new_version(r, u["sup1"])
        ops.submit_report(v2, u["sup1"])
        ops.review_report(v2, u["manager"], "approve")
    db.session.commit()
    page2 = _body(client.get(f"/reports/{v2.id}", headers=ZH).get_data(as_text=True))
    assert "赵经理" in page2 and f"/reports/{v2.id}/photos/{third}" in page2
    assert _get(client, f"/reports/{v2.id}/photos/{before}?variant=thumb") == marked_jpeg(thumb, ARROW, quality=85)
    with app.test_request_context():
        v2_photo = draw_watermark(thumb, snapshot_of(v2).data["bands"][before], ARROW)
    assert v2_photo in client.get(f"/reports/{v2.id}/report.pdf", headers=ZH).data


def test_frozen_photos_are_in_scope_and_only_the_reports(marked_report, world, client, auth):
    r, before = marked_report["report"], marked_report["before"]
    auth.login("sup2")  # another department's supervisor
    assert client.get(f"/reports/{r.id}/photos/{before}?variant=thumb").status_code == 404
    auth.logout()
    auth.login("manager")
    assert client.get(f"/reports/{r.id}/photos/{'0' * 64}?variant=thumb").status_code == 404
    assert client.get(f"/reports/{r.id}/photos/{before}?variant=original").status_code == 404
    auth.logout()
    assert client.get(f"/reports/{r.id}/photos/{before}?variant=thumb").status_code in (302, 401)
