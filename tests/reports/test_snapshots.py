"""An approved report is a frozen document (webapp/reports/snapshots.py): page, PDF and share link
render from the snapshot; a later change to a finding changes none of them; a new approved version
has its own snapshot and hash."""

import re
import shutil
import subprocess

import pytest
from sqlalchemy import select

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
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils is not installed")
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
