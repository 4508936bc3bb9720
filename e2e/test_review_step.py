"""The manager's review of synced findings and the frozen report, in a browser on a 1366×800 desktop
and a 390×844 phone: correct a finding, reject one with a reason the supervisor sees (on the desk and,
after a sync, on the phone), merge two; approve a report whose photos are marked up, change a finding,
the page, PDF and share link (photos included) do not change, re-approving makes version 2 that shows
the change. Screenshots (zh-CN and en, desktop and phone) of the review queue, a finding's review
actions, a visit's answers, the report's versions and the phone's rejected finding go to
docs/screenshots/h19-review-*.png with UPDATE_DOCS_SCREENSHOTS=1 (else e2e/artifacts/) (palette PNGs, small)."""

import io
import subprocess

from PIL import Image

from e2e.conftest import docs_screenshots, signed_in
from e2e.phone import wait_synced, wait_until
from tests.pdf_checks import require_poppler
from webapp.demo.keys import demo_id
from webapp.demo.seed import DEMO_USERS

PASSWORDS = {u["username"]: u["password"] for u in DEMO_USERS}
DESK = {"viewport": {"width": 1366, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
SHOTS = docs_screenshots()  # docs/screenshots/ only with UPDATE_DOCS_SCREENSHOTS=1


def _user(browser, server, username, lang="zh-CN", device=DESK):
    return signed_in(browser, server, username, PASSWORDS[username], lang, device)


def _shot(target, name, **kw):
    """A screenshot of a page (its viewport) or of one element, saved as a 256-colour PNG."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    png = target.screenshot(animations="disabled", **kw)
    img = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=0)
    img.save(SHOTS / f"h19-review-{name}.png", optimize=True)


def _stack(parts, name):
    """Element screenshots (PNG bytes, optional crop height) stacked into one small PNG."""
    imgs = []
    for png, height in parts:
        img = Image.open(io.BytesIO(png)).convert("RGB")
        imgs.append(img.crop((0, 0, img.width, min(img.height, height))) if height else img)
    pad = 16
    out = Image.new("RGB", (max(i.width for i in imgs) + 2 * pad, sum(i.height for i in imgs) + pad * (len(imgs) + 1)),
                    "#ffffff")
    y = pad
    for img in imgs:
        out.paste(img, (pad, y))
        y += img.height + pad
    out.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=0).save(SHOTS / f"h19-review-{name}.png",
                                                                              optimize=True)


def _scroll_to(page, selector):
    """Bring an element to the top of the viewport, below the sticky header."""
    page.locator(selector).first.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 72)")
    wait_until(page, "[...document.images].filter((i) => { const r = i.getBoundingClientRect();"
                     " return r.bottom > 0 && r.top < innerHeight; }).every((i) => i.complete)")  # lazy: on screen
    page.evaluate("document.activeElement && document.activeElement.blur()")


def _no_horizontal_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


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
    require_poppler()  # a failure under CI=true, a skip with its reason otherwise
    errors = []
    mgr_ctx, mgr = _user(browser, server, "manager")
    mgr.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # The queue: keyboard-usable (the filters and every act are plain links and forms).
    mgr.goto(f"{server}/findings/review")
    assert mgr.locator("a.review-link", has_text="收银台备用金不足").count() == 1
    _shot(mgr, "queue-zh-desktop")
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
    _shot(mgr.locator("#review"), "actions-zh-desktop")

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

    # The supervisor sees the reason on the desk ...
    sup_ctx, sup = _user(browser, server, "supervisor")
    sup.goto(rejected_url)
    assert "当日为新员工培训日" in sup.locator("#review").inner_text()
    assert sup.locator("summary", has_text="更正").count() == 0

    # ... and, after a sync, on the phone: the visit's findings list and the finding's screen.
    ph_ctx, ph = _user(browser, server, "supervisor", device=PHONE)
    ph.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    ph.goto(f"{server}/m/")
    ph.wait_for_selector("body[data-ready]")
    wait_until(ph, "navigator.serviceWorker.controller !== null", timeout=20000)
    wait_synced(ph)
    ph.goto(f"{server}/m/visit/{demo_id('visit:v4')}/findings")
    row = ph.locator(".m-list li", has_text="店员未佩戴工牌")
    row.locator(".m-review-reason").wait_for()
    assert "当日为新员工培训日" in row.inner_text() and "已驳回" in row.inner_text()
    assert "待审核" in ph.locator(".m-list li", has_text="收银台备用金不足").inner_text()  # corrected, still pending
    row.locator("a.m-row").click()
    ph.locator(".m-review-rejected").wait_for()
    assert "当日为新员工培训日" in ph.locator(".m-review-rejected").inner_text()
    _no_horizontal_scroll(ph)
    _scroll_to(ph, ".m-back")
    _shot(ph, "phone-rejected-zh")

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
    # Its photos come from the frozen snapshot (the markup as approved), not the live photo route.
    frozen = mgr.locator(".report-body img[src*='/reports/']")
    assert frozen.count() >= 1 and mgr.locator(".report-body .badge.marked-up").count() >= 1
    thumb_url = frozen.first.get_attribute("src")
    thumb_before = mgr.request.get(server + thumb_url).body()
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
    assert mgr.request.get(server + thumb_url).body() == thumb_before

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

    # The visit on the desk: its checklist answers by area.
    mgr.goto(f"{server}/findings/?q=收银台现金未按规定日结")
    mgr.locator("a.finding-link", has_text="收银台现金未按规定日结").first.click()
    mgr.locator("a", has_text="打开完整页面").first.click()
    mgr.wait_for_url("**/findings/*")
    mgr.locator(".facts a", has_text="南京路门店").click()
    mgr.wait_for_url("**/visits/*")
    visit_url = mgr.url
    answers = mgr.locator("#answers")
    assert answers.locator("tr.ck-failed").count() >= 1 and "不合格" in answers.locator("h3").first.inner_text() + \
        answers.inner_text()
    answers.locator("tr.ck-failed a.pv-open").first.click()  # the photo viewer, not the bare image
    assert mgr.url == visit_url
    mgr.keyboard.press("Escape")
    _scroll_to(mgr, "#answers")
    _shot(mgr, "answers-zh-desktop")
    assert not [e for e in errors if "Content Security Policy" in e], errors

    # The same pages in English, on a desktop and on a 390×844 phone.
    en_ctx, en = _user(browser, server, "manager", "en")
    en.goto(v2_url)
    assert "Frozen at approval" in en.locator(".report-body").inner_text()
    _scroll_to(en, ".report-body")
    en.evaluate("document.querySelector('.topbar').style.position = 'static'")  # not over element shots
    body = en.locator(".report-body")
    _stack([(body.locator("h2").first.screenshot(animations="disabled"), None),
            (body.locator(".frozen-note").screenshot(animations="disabled"), None),
            (body.locator(".report-finding").first.screenshot(animations="disabled"), 420),
            (en.locator(".report-versions").screenshot(animations="disabled"), None)], "versions-en-desktop")
    enp_ctx, enp = _user(browser, server, "manager", "en", PHONE)
    for url, name in ((f"{server}/findings/review", "queue-en-phone"), (visit_url, "answers-en-phone")):
        enp.goto(url)
        _no_horizontal_scroll(enp)
        _scroll_to(enp, "#answers" if name.startswith("answers") else "h1")
        _shot(enp, name)
    enp.goto(rejected_url)
    _scroll_to(enp, "#review")
    _no_horizontal_scroll(enp)
    _shot(enp, "actions-en-phone")
    for ctx in (mgr_ctx, sup_ctx, ph_ctx, en_ctx, enp_ctx, anon.context):
        ctx.close()
