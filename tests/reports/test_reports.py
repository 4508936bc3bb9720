"""The report workflow, versions, communication notes, share links and the PDF."""

import os
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.review_helpers import post
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.findings.operations import NotAllowed, WorkflowError
from webapp.notifications.models import Notification
from webapp.reports import operations as ops
from webapp.reports.models import Report, ShareLink


@pytest.fixture
def report(world, app):
    with app.test_request_context():
        r = ops.create_report(world["visits"][0], world["users"]["sup1"])
    db.session.commit()
    return r


def _to(report, world, status):
    u = world["users"]
    steps = [("submitted", lambda: ops.submit_report(report, u["sup1"])),
             ("approved", lambda: ops.review_report(report, u["manager"], "approve")),
             ("communicated", lambda: ops.communicate_report(report, u["sup1"])),
             ("acknowledged", lambda: ops.acknowledge_report(report, u["head1"]))]
    for _name, step in steps:
        if report.status == status:
            break
        step()
    db.session.commit()


def test_prefilled_from_the_visit(report, world):
    assert report.status == "draft" and report.version_no == 1
    assert "一部的问题" in report.problems
    assert set(report.area_scores) >= {"process", "risk", "overall"}


def test_whole_workflow_notifies_each_hand_over(report, world):
    _to(report, world, "acknowledged")
    assert report.status == "acknowledged" and report.locked
    assert report.acknowledged_by == world["users"]["head1"].id
    kinds = sorted((n.kind, n.user_id) for n in db.session.scalars(select(Notification)))
    u = world["users"]
    assert kinds == sorted([("report_to_approve", u["manager"].id), ("report_approved", u["sup1"].id),
                            ("report_to_acknowledge", u["head1"].id), ("plan_to_submit", u["head1"].id)])
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "report").order_by(AuditEntry.id)).all()
    assert actions == ["report.create", "report.submitted", "report.approved", "report.communicated",
                       "report.acknowledged"]


@pytest.mark.parametrize("step,who,allowed", [
    ("submit", "sup1", True), ("submit", "sup2", False), ("submit", "head1", False), ("submit", "manager", True),
    ("approve", "manager", True), ("approve", "admin", True), ("approve", "sup1", False), ("approve", "head1", False),
    ("communicate", "sup1", True), ("communicate", "head1", False),
    ("acknowledge", "head1", True), ("acknowledge", "head2", False), ("acknowledge", "sup1", False),
])
def test_permissions(report, world, step, who, allowed):
    before = {"submit": "draft", "approve": "submitted", "communicate": "approved", "acknowledge": "communicated"}
    _to(report, world, before[step])
    user = world["users"][who]
    call = {"submit": lambda: ops.submit_report(report, user),
            "approve": lambda: ops.review_report(report, user, "approve"),
            "communicate": lambda: ops.communicate_report(report, user),
            "acknowledge": lambda: ops.acknowledge_report(report, user)}[step]
    if allowed:
        call()
    else:
        with pytest.raises(NotAllowed):
            call()


@pytest.mark.parametrize("status,step", [("draft", "approve"), ("draft", "communicate"), ("submitted", "submit"),
                                         ("approved", "acknowledge"), ("acknowledged", "communicate")])
def test_out_of_order_refused(report, world, status, step):
    _to(report, world, status)
    u = world["users"]
    call = {"submit": lambda: ops.submit_report(report, u["sup1"]),
            "approve": lambda: ops.review_report(report, u["manager"], "approve"),
            "communicate": lambda: ops.communicate_report(report, u["sup1"]),
            "acknowledge": lambda: ops.acknowledge_report(report, u["head1"])}[step]
    with pytest.raises(WorkflowError):
        call()


def test_return_needs_comment_and_allows_resubmit(report, world):
    _to(report, world, "submitted")
    with pytest.raises(WorkflowError):
        ops.review_report(report, world["users"]["manager"], "return", " ")
    ops.review_report(report, world["users"]["manager"], "return", "补充原因分析")
    assert report.status == "returned" and report.review_comment == "补充原因分析"
    ops.update_report(report, world["users"]["sup1"], {"analysis": "原因:人手不足"})
    ops.submit_report(report, world["users"]["sup1"])
    assert report.status == "submitted"


def test_approved_is_locked_and_changes_make_a_new_version(report, world, app):
    _to(report, world, "approved")
    with pytest.raises(WorkflowError):
        ops.update_report(report, world["users"]["sup1"], {"analysis": "x"})
    new = ops.new_version(report, world["users"]["sup1"])
    db.session.commit()
    assert (new.version_no, new.status, new.supersedes_id) == (2, "draft", report.id)
    assert report.status == "approved"
    with pytest.raises(WorkflowError):
        ops.new_version(report, world["users"]["sup1"])


def test_share_link_read_only_and_revocable(client, auth, report, world):
    _to(report, world, "approved")
    rid = report.id
    auth.login("sup1")
    assert post(client, f"/reports/{rid}/share").status_code == 303
    page = client.get(f"/reports/{rid}").get_data(as_text=True)
    url = page.split('id="share-url">', 1)[1].split("<", 1)[0]
    path = url.split("localhost", 1)[1]
    auth.logout()
    shared = client.get(path)
    assert shared.status_code == 200 and "一部的问题" in shared.get_data(as_text=True)
    assert "csrf_token" not in shared.get_data(as_text=True).split("<main", 1)[1]
    auth.login("sup1")
    link_id = db.session.scalar(select(db.text("id FROM share_links")))
    assert post(client, f"/reports/{rid}/share/{link_id}/revoke").status_code == 303
    auth.logout()
    assert client.get(path).status_code == 404


def test_share_refused_before_approval(client, auth, report):
    rid = report.id
    auth.login("sup1")
    assert post(client, f"/reports/{rid}/share").status_code == 409


@pytest.mark.parametrize("who,status", [("sup1", 200), ("manager", 200), ("head1", 404), ("sup2", 404),
                                        ("head2", 404)])
def test_report_page_is_scoped(client, auth, report, who, status):
    rid = report.id
    auth.login(who)
    assert client.get(f"/reports/{rid}").status_code == status


def test_department_sees_the_report_once_communicated(client, auth, report, world):
    rid = report.id
    _to(report, world, "approved")
    auth.login("head1")
    assert client.get(f"/reports/{rid}").status_code == 404
    assert "/reports/" + rid not in client.get("/reports/").get_data(as_text=True)
    auth.logout()
    ops.communicate_report(db.session.get(Report, rid), world["users"]["sup1"])
    db.session.commit()
    auth.login("head1")
    assert client.get(f"/reports/{rid}").status_code == 200
    assert post(client, f"/reports/{rid}/acknowledge").status_code == 303
    assert db.session.get(Report, rid).status == "acknowledged"


def test_views_create_edit_submit_approve(client, auth, world):
    vid = world["visits"][0].id
    world["visits"][0].status = "completed"
    db.session.commit()
    auth.login("sup1")
    assert vid in client.get("/reports/").get_data(as_text=True)
    r = post(client, "/reports/new", {"visit_id": vid})
    rid = r.headers["Location"].rsplit("/", 1)[1]
    r = post(client, f"/reports/{rid}/edit", {"title": "", "analysis": "我的分析"})
    assert r.status_code == 400 and "我的分析" in r.get_data(as_text=True)
    assert post(client, f"/reports/{rid}/edit", {"title": "督导报告一", "analysis": "分析"}).status_code == 303
    assert post(client, f"/reports/{rid}/notes", {"held_on": date.today().isoformat(), "attendees": "陈静, 张伟",
                                                  "causes": "人手不足", "solutions": "弹性排班"}).status_code == 303
    assert post(client, f"/reports/{rid}/submit").status_code == 303
    auth.logout()
    auth.login("manager")
    assert post(client, f"/reports/{rid}/approve").status_code == 303
    assert db.session.get(Report, rid).status == "approved"
    page = client.get(f"/reports/{rid}").get_data(as_text=True)
    assert "人手不足" in page


def test_pdf_has_chinese_text_and_renders(client, auth, report, world, tmp_path):
    if not shutil.which("pdftotext"):
        if os.environ.get("CI") == "true":
            pytest.fail("poppler-utils is required under CI (tools/run_tests.sh installs it)")
        pytest.skip("poppler-utils is not installed")
    rid = report.id
    auth.login("sup1")
    r = client.get(f"/reports/{rid}/report.pdf", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(r.data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "督导报告" in text and "一部的问题" in text
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    assert list(tmp_path.glob("page*.png"))


def test_pdf_without_font_says_so(client, auth, report, app):
    rid = report.id
    app.config["PDF_FONT_PATH"] = "/nonexistent/font.ttc"
    auth.login("sup1")
    r = client.get(f"/reports/{rid}/report.pdf", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 302
    assert "fonts-noto-cjk" in client.get(r.headers["Location"]).get_data(as_text=True)


def test_shared_view_shows_the_evidence_photos(client, auth, world, app):
    """Whoever holds the link sees the findings' photos (thumb/display), and nothing else by that route."""
    from tests.photos.images import jpeg, sha
    from tests.photos.test_api import put, token_for

    evidence, other = jpeg((800, 600)), jpeg((640, 480))
    for data in (evidence, other):
        assert put(client, token_for(client, "sup1"), data).status_code == 201
    world["findings"][0].photos = [sha(evidence)]
    db.session.commit()
    with app.test_request_context():
        r = ops.create_report(world["visits"][0], world["users"]["sup1"])
    db.session.commit()
    _to(r, world, "approved")
    with app.test_request_context():
        token = ops.create_share_link(r, world["users"]["sup1"])
    db.session.commit()
    page = client.get(f"/reports/shared/{token}").get_data(as_text=True)
    src = f"/reports/shared/{token}/photos/{sha(evidence)}?variant=thumb"
    assert src in page
    shown = client.get(src)
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg" and shown.data[:2] == b"\xff\xd8"
    assert client.get(f"/reports/shared/{token}/photos/{sha(evidence)}?variant=original").status_code == 404
    assert client.get(f"/reports/shared/{token}/photos/{sha(other)}").status_code == 404  # not in this report
    assert client.get(f"/reports/shared/not-a-token/photos/{sha(evidence)}").status_code == 404


def test_share_links_expire_and_are_never_cached(app, client, auth, report, world, pinned_clock):
    """Issue #21.11: links never expired and the shared page could be cached."""
    _to(report, world, "approved")
    with app.test_request_context():
        default = ops.create_share_link(report, world["users"]["sup1"])
        short = ops.create_share_link(report, world["users"]["sup1"], expires_in_days=1)
    db.session.commit()
    r = client.get(f"/reports/shared/{default}")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    pinned_clock.shift(timedelta(days=1, minutes=1))
    assert client.get(f"/reports/shared/{short}").status_code == 404
    assert client.get(f"/reports/shared/{default}").status_code == 200
    pinned_clock.shift(timedelta(days=app.config["SHARE_LINK_DEFAULT_DAYS"]))
    assert client.get(f"/reports/shared/{default}").status_code == 404


def test_share_link_lifetime_is_chosen_when_made(app, client, auth, report, world):
    _to(report, world, "approved")
    auth.login("sup1")
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'name="expires_in_days"' in page and '<option value="30" selected>' in page
    assert post(client, f"/reports/{report.id}/share", {"expires_in_days": "7"}).status_code == 303
    link = db.session.scalars(select(ShareLink)).one()
    assert abs((link.expires_at - link.created_at) - timedelta(days=7)) < timedelta(seconds=5)
    r = post(client, f"/reports/{report.id}/share", {"expires_in_days": "100000"})
    assert r.status_code == 400 and "1 到 180 天" in r.get_data(as_text=True)
    assert "过期时间" in client.get(f"/reports/{report.id}").get_data(as_text=True)
