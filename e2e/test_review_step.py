"""The manager's review of synced findings and the frozen report, in a browser on a 1366×800 desktop:
correct a finding, reject one with a reason the supervisor sees, merge two; approve a report, change a
finding, the PDF and the share link do not change, re-approving makes version 2 that shows the change.
Screenshots (zh-CN and en) of the review queue, a visit's answers and the report's versions."""

import shutil
import subprocess
from pathlib import Path

import pytest

from e2e.conftest import signed_in
from webapp.demo.seed import DEMO_USERS

PASSWORDS = {u["username"]: u["password"] for u in DEMO_USERS}
DESK = {"viewport": {"width": 1366, "height": 800}}
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def _user(browser, server, username, lang="zh-CN"):
    return signed_in(browser, server, username, PASSWORDS[username], lang, DESK)


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"h19-review-{name}.png"), full_page=True)


def _pdf_text(page, url, tmp_path):
    r = page.request.get(url)
    assert r.ok and r.body()[:4] == b"%PDF"
    path = tmp_path / "r.pdf"
    path.write_bytes(r.body())
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _open_finding(page, server, title):
    page.goto(f"{server}/findings/review")
    page.locator("a.review-link", has_text=title).click()
    page.wait_for_url("**/findings/*")
    page.locator("#review").wait_for()


def test_review_and_frozen_report(browser, server, tmp_path):
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils is not installed")
    errors = []
    mgr_ctx, mgr = _user(browser, server, "manager")
    mgr.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # The queue: keyboard-usable (the filters and every act are plain links and forms).
    mgr.goto(f"{server}/findings/review")
    assert mgr.locator("a.review-link", has_text="收银台备用金不足").count() == 1
    _shot(mgr, "queue-zh")
    mgr.locator("#rq-review").focus()
    mgr.keyboard.press("Tab")
    assert mgr.evaluate("document.activeElement.id") == "rq-site"

    # 1. Correct a field, with a reason: recorded with who, when and why.
    _open_finding(mgr, server, "收银台备用金不足")
    mgr.locator("summary", has_text="更正").click()
    mgr.locator("select[name=severity]").select_option(label="一般")
    mgr.locator("textarea[name=reason]:visible").fill("低于规定一半以上，按一般问题处理")
    mgr.get_by_role("button", name="保存更正").click()
    mgr.wait_for_load_state()
    log = mgr.locator(".review-log").inner_text()
    assert "已更正" in log and "低于规定一半以上" in log and "轻微" in log and "一般" in log
    _shot(mgr, "corrected-zh")

    # 2. Reject one as not a problem, with a reason the supervisor sees.
    _open_finding(mgr, server, "店员未佩戴工牌")
    rejected_url = mgr.url
    mgr.locator("summary", has_text="驳回：不构成问题").click()
    mgr.locator("textarea[name=reason]:visible").fill("当日为新员工培训日，工牌统一存放在培训室")
    mgr.get_by_role("button", name="驳回", exact=True).click()
    mgr.wait_for_load_state()
    assert "已驳回：不构成问题" in mgr.locator("#review").inner_text()

    # 3. Merge two findings that describe the same problem.
    _open_finding(mgr, server, "畅销品补货延误")
    mgr.locator("summary", has_text="合并到另一个问题").click()
    option = mgr.locator("select[name=into_id] option", has_text="补货单未及时提交").first.get_attribute("value")
    mgr.locator("select[name=into_id]").select_option(option)
    mgr.get_by_role("button", name="合并", exact=True).click()
    mgr.wait_for_url(f"**/findings/{option}")
    assert "另一问题已合并到本问题" in mgr.locator(".review-log").inner_text()
    mgr.goto(f"{server}/findings/review")
    assert mgr.locator("a.review-link", has_text="畅销品补货延误").count() == 0

    # The supervisor sees the reason on the desk.
    sup_ctx, sup = _user(browser, server, "supervisor")
    sup.goto(rejected_url)
    assert "当日为新员工培训日" in sup.locator("#review").inner_text()
    assert sup.locator("summary", has_text="更正").count() == 0

    # 4. The frozen report: written, approved, shared.
    sup.goto(f"{server}/reports/")
    sup.locator("form", has_text="静安客服中心").get_by_role("button", name="撰写报告").click()
    sup.wait_for_url("**/reports/*")
    report_url = sup.url
    sup.get_by_role("button", name="提交审批").click()
    sup.wait_for_load_state()
    mgr.goto(report_url)
    mgr.get_by_role("button", name="批准").click()
    mgr.wait_for_load_state()
    assert "批准时定稿" in mgr.locator(".report-body").inner_text()
    sup.goto(report_url)
    sup.get_by_role("button", name="创建分享链接").click()
    sup.wait_for_load_state()
    share_url = sup.locator("#share-url").inner_text()
    pdf_before = _pdf_text(sup, report_url + "/report.pdf", tmp_path)
    anon = browser.new_context(locale="zh-CN", **DESK).new_page()
    anon.goto(share_url)
    shared_before = anon.locator(".report-body").inner_text()
    assert "客服热线高峰期接通率偏低" in shared_before and "严重" in shared_before

    # A later change to a finding of the report.
    mgr.goto(f"{server}/findings/?q=客服热线高峰期接通率偏低")
    mgr.locator("a.finding-link", has_text="客服热线高峰期接通率偏低").first.click()
    mgr.locator("a", has_text="打开完整页面").first.click()
    mgr.wait_for_url("**/findings/*")
    mgr.locator("summary", has_text="更正").click()
    mgr.locator("select[name=severity]").select_option(label="重大")
    mgr.locator("textarea[name=reason]:visible").fill("投诉量已超过月度警戒线")
    mgr.get_by_role("button", name="保存更正").click()
    mgr.wait_for_load_state()

    assert _pdf_text(sup, report_url + "/report.pdf", tmp_path) == pdf_before
    anon.reload()
    assert anon.locator(".report-body").inner_text() == shared_before

    # 5. Re-approving after the change: version 2 shows it, with its own hash.
    sup.goto(report_url)
    sup.get_by_role("button", name="修订为新版本").click()
    sup.wait_for_load_state()
    sup.get_by_role("button", name="提交审批").click()
    sup.wait_for_load_state()
    v2_url = sup.url
    mgr.goto(v2_url)
    mgr.get_by_role("button", name="批准").click()
    mgr.wait_for_load_state()
    rows = mgr.locator(".report-versions tbody tr")
    assert rows.count() == 2
    hashes = [h.get_attribute("title") for h in mgr.locator(".report-versions code.hash").all()]
    assert len(hashes) == 2 and hashes[0] != hashes[1]
    pdf_v2 = _pdf_text(mgr, v2_url + "/report.pdf", tmp_path)
    flat = pdf_v2.replace("\n", "")
    assert "客服热线高峰期接通率偏低（重大）" in flat or "客服热线高峰期接通率偏低(重大)" in flat  # text = badge
    assert "重大" in pdf_v2 and hashes[0] in pdf_v2.replace("\n", "") and "版本：v2" in pdf_v2
    assert pdf_v2 != pdf_before
    _shot(mgr, "report-versions-zh")

    # The visit on the desk: its checklist answers by area.
    mgr.goto(f"{server}/findings/?q=收银台现金未按规定日结")
    mgr.locator("a.finding-link", has_text="收银台现金未按规定日结").first.click()
    mgr.locator("a", has_text="打开完整页面").first.click()
    mgr.wait_for_url("**/findings/*")
    mgr.locator(".facts a", has_text="南京路门店").click()
    mgr.wait_for_url("**/visits/*")
    visit_url = mgr.url
    assert mgr.locator("tr.answer-fail").count() >= 1
    mgr.locator("tr.answer-fail a.pv-open").first.click()  # the photo viewer, not the bare image
    assert mgr.url == visit_url
    mgr.keyboard.press("Escape")
    _shot(mgr, "visit-answers-zh")
    assert not [e for e in errors if "Content Security Policy" in e], errors

    # The same pages in English.
    en_ctx, en = _user(browser, server, "manager", "en")
    en.goto(f"{server}/findings/review")
    _shot(en, "queue-en")
    en.goto(visit_url)
    _shot(en, "visit-answers-en")
    en.goto(v2_url)
    assert "Frozen at approval" in en.locator(".report-body").inner_text()
    _shot(en, "report-versions-en")
    for ctx in (mgr_ctx, sup_ctx, en_ctx, anon.context):
        ctx.close()
