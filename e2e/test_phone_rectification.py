"""A department head rectifies on a 390×844 phone, offline: their open rectification with the
finding's photos, progress with a photo, submitted for acceptance; back online it syncs through the
desk's operation, and the supervisor accepts it on the desk with before and after side by side.
Screenshots of the phone screens and the desk pages in zh-CN and en: e2e/artifacts/h18-*, copied to
docs/screenshots/ only with UPDATE_DOCS_SCREENSHOTS=1 (a test run leaves the tracked files alone)."""

import os
import shutil
from datetime import date, timedelta

from e2e.conftest import ARTIFACTS, DESKTOP, ROOT, signed_in
from e2e.phone import open_app, photo_file, snap, unsynced, wait_synced, wait_until

PHONE390 = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
HEAD = ("depthead", "depthead-demo-2026")
SUPERVISOR = ("supervisor", "supervisor-demo-2026")
TITLE = "门店与仓库补货沟通不畅"  # the demo's open finding of 客户服务部 (the head's department), with a photo
DOCS = ROOT / "docs" / "screenshots"


def _keep(name: str) -> None:
    """Copy an e2e artifact into docs/screenshots/ (the README's pictures) when asked to refresh them."""
    if not os.environ.get("UPDATE_DOCS_SCREENSHOTS"):
        return
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTIFACTS / f"{name}.png", DOCS / f"{name}.png")


def _shot(shot, page, name):
    page.evaluate("document.querySelectorAll('.m-toast').forEach((t) => t.remove())")  # a passing toast
    snap(shot, page, name)
    _keep(name)


def test_a_department_head_rectifies_offline_and_the_supervisor_accepts(browser, server, shot):
    # The plan is in (on the desk): the finding is being rectified, with a deadline.
    ctx, desk = signed_in(browser, server, *HEAD, "zh-CN", DESKTOP)
    desk.goto(f"{server}/rectification/?status=to_plan")
    desk.locator("a", has_text=TITLE).first.click()
    desk.wait_for_url("**/rectification/*")
    finding_id = desk.url.rstrip("/").rsplit("/", 1)[1]
    desk.fill("#measures", "每日 16:00 门店与仓库对账畅销品库存，缺货当天补货")
    desk.fill("#owner", "赵磊")
    desk.fill("#deadline", (date.today() + timedelta(days=10)).isoformat())
    desk.locator("form[action$='/plan'] button[type=submit]").click()
    desk.wait_for_load_state()
    # The head's home: their own deadlines, not the supervisors' visits.
    desk.goto(server + "/")
    desk.locator("#h-my-rect").wait_for()
    assert desk.locator(".head-worklist", has_text=TITLE).count() == 1
    assert desk.locator("#h-overdue-visits").count() == 0
    _shot(shot, desk, "h18-depthead-home-desktop-zh-CN")
    ctx.close()

    # The phone: the head's open rectifications, the finding's photo fetched for offline use.
    ctx = browser.new_context(locale="zh-CN", **PHONE390)
    ctx.add_init_script("window.confirm = () => true;")
    phone = ctx.new_page()
    errors = []
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    open_app(phone, server, *HEAD)
    row = phone.locator(f"a[href='/m/rect/{finding_id}']")
    row.wait_for()
    wait_until(phone, "document.body.dataset.rectFeed === 'ready'")  # the finding's photos are on the phone
    assert phone.locator("h1").inner_text() == "我的整改"
    _shot(shot, phone, "h18-depthead-phone-list-zh-CN")

    # Offline from here: open it, report progress with a photo, submit for acceptance.
    ctx.set_offline(True)
    wait_until(phone, "!navigator.onLine")
    row.click()
    phone.locator("#rect-before").wait_for()
    before = phone.locator("section[aria-labelledby=rect-before] img")
    assert before.count() == 1
    wait_until(phone, "document.querySelector('section[aria-labelledby=rect-before] img').src.startsWith('blob:')")
    assert "整改期限" in phone.locator(".m-facts").inner_text()
    phone.fill("section[aria-labelledby=rect-new] input[type=number]", "100")
    phone.fill("section[aria-labelledby=rect-new] textarea", "已建立每日对账，畅销品缺货当天补齐")
    phone.locator("section[aria-labelledby=rect-new] input[type=file]").set_input_files(
        [photo_file("after-restock", hue=120)])
    phone.locator("section[aria-labelledby=rect-new] .m-photos img").wait_for()
    _shot(shot, phone, "h18-depthead-phone-progress-zh-CN")
    # Closing the tab keeps what was typed: the draft is on the phone.
    phone.reload()
    phone.wait_for_selector("body[data-ready]")
    assert phone.locator("section[aria-labelledby=rect-new] textarea").input_value() == "已建立每日对账，畅销品缺货当天补齐"
    assert phone.locator("section[aria-labelledby=rect-new] .m-photos img").count() == 1
    phone.locator("#rect-submit").click()
    phone.wait_for_url(f"{server}/m/")
    wait_until(phone, "document.querySelector('#rect-wait') !== null")
    assert unsynced(phone) >= 2  # the progress report and its photo
    assert "未同步" in phone.locator("section[aria-labelledby=rect-wait]").inner_text()
    _shot(shot, phone, "h18-depthead-phone-submitted-offline-zh-CN")

    # Back online: it syncs, and the server has run the desk's operation.
    ctx.set_offline(False)
    phone.evaluate("delete document.body.dataset.sync")
    phone.locator("#sync-now").click()
    wait_synced(phone)
    wait_until(phone, f"!!document.querySelector('section[aria-labelledby=rect-wait] a[href=\"/m/rect/{finding_id}\"]') "
                      "&& !document.querySelector('section[aria-labelledby=rect-wait]').textContent.includes('未同步')")
    phone.locator(f"a[href='/m/rect/{finding_id}']").click()
    phone.locator("#rect-history").wait_for()
    assert phone.locator("#rect-submit").count() == 0  # awaiting acceptance: nothing more to report
    _shot(shot, phone, "h18-depthead-phone-awaiting-zh-CN")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    ctx.close()

    # The supervisor accepts on the desk, with the finding's photo beside the progress photo.
    for lang in ("en", "zh-CN"):
        ctx, sup = signed_in(browser, server, *SUPERVISOR, lang, DESKTOP)
        sup.goto(f"{server}/rectification/{finding_id}")
        assert sup.locator("#ba-before img").count() == 1
        assert sup.locator("#ba-after img").count() == 1
        sup.locator("#before-after").scroll_into_view_if_needed()
        _shot(shot, sup, f"h18-depthead-acceptance-desktop-{lang}")
        if lang == "zh-CN":
            sup.locator("input[name=result][value=pass]").check()
            sup.locator("form[action$='/decide'] button[type=submit]").click()
            sup.wait_for_load_state()
            assert "已关闭" in sup.locator("#finding-status").inner_text()
        ctx.close()


def test_english_phone_and_desk_screens(browser, server, shot):
    """The same screens in English (the head's other open rectifications from the demo's history)."""
    ctx, desk = signed_in(browser, server, *HEAD, "en", DESKTOP)
    desk.locator("#h-my-rect").wait_for()
    assert "My rectifications" in desk.locator("#h-my-rect").inner_text()
    _shot(shot, desk, "h18-depthead-home-desktop-en")
    ctx.close()
    ctx, phone = signed_in(browser, server, *HEAD, "en", PHONE390)
    phone.goto(server + "/m/")
    phone.wait_for_selector("body[data-ready]")
    wait_until(phone, "navigator.serviceWorker.controller !== null", timeout=20000)
    wait_synced(phone)
    phone.locator("a[href^='/m/rect/']").first.wait_for()
    assert phone.locator("h1").inner_text() == "My rectifications"
    _shot(shot, phone, "h18-depthead-phone-list-en")
    phone.locator("a[href^='/m/rect/']").first.click()
    phone.locator("#rect-before").wait_for()
    _shot(shot, phone, "h18-depthead-phone-progress-en")
    ctx.close()


def test_a_refused_report_comes_back_with_the_reason_and_keeps_what_was_typed(browser, server, shot):
    """Offline, the head reports progress; meanwhile the rectification was submitted for acceptance
    on the desk. Back online the server refuses the report with the desk's reason, in Chinese; the
    note and the photo stay on the phone until the head discards them."""
    ctx = browser.new_context(locale="zh-CN", **PHONE390)
    ctx.add_init_script("window.confirm = () => true;")
    phone = ctx.new_page()
    open_app(phone, server, *HEAD)
    wait_until(phone, "document.body.dataset.rectFeed === 'ready'")
    link = phone.locator("section[aria-labelledby=rect-due] a[href^='/m/rect/']").last
    href = link.get_attribute("href")
    finding_id = href.rsplit("/", 1)[1]
    ctx.set_offline(True)
    link.click()
    phone.locator("section[aria-labelledby=rect-new] textarea").wait_for()
    phone.fill("section[aria-labelledby=rect-new] input[type=number]", "80")
    phone.fill("section[aria-labelledby=rect-new] textarea", "已完成八成，等待备件")
    phone.locator("section[aria-labelledby=rect-new] input[type=file]").set_input_files([photo_file("partial", hue=30)])
    phone.locator("section[aria-labelledby=rect-new] .m-photos img").wait_for()
    phone.locator("#rect-record").click()
    phone.locator(".rect-update").wait_for()

    # Meanwhile, on the desk, the same head submits the rectification for acceptance.
    dctx, desk = signed_in(browser, server, *HEAD, "zh-CN", DESKTOP)
    desk.goto(f"{server}/rectification/{finding_id}")
    desk.locator("form[action$='/submit'] button[type=submit]").click()
    desk.wait_for_load_state()
    dctx.close()

    ctx.set_offline(False)
    phone.evaluate("delete document.body.dataset.sync")
    phone.locator("#sync-now").click()
    wait_until(phone, "document.body.dataset.sync === 'done'")
    phone.goto(f"{server}{href}")
    phone.locator(".m-state-rejected").wait_for()
    text = phone.locator(".m-state-rejected").inner_text()
    assert "只有整改中才能报告进度" in text, text
    update = phone.locator(".rect-update").first.inner_text()
    assert "已完成八成，等待备件" in update and "80%" in update
    assert phone.locator(".rect-update img").count() == 1
    _shot(shot, phone, "h18-depthead-phone-refused-zh-CN")
    ctx.close()


def test_the_heads_offline_screens_in_english(browser, server, shot):
    """The same flow on an English phone (two more of the head's open rectifications from the demo):
    submitted offline, awaiting acceptance once synced, and a report the desk's change refused."""
    ctx = browser.new_context(locale="en", **PHONE390)
    ctx.add_init_script("window.confirm = () => true;")
    phone = ctx.new_page()
    open_app(phone, server, *HEAD)
    wait_until(phone, "document.body.dataset.rectFeed === 'ready'")
    due = phone.locator("section[aria-labelledby=rect-due] a[href^='/m/rect/']")
    first, second = due.nth(0).get_attribute("href"), due.nth(1).get_attribute("href")
    assert first != second

    ctx.set_offline(True)
    wait_until(phone, "!navigator.onLine")
    phone.locator(f"a[href='{first}']").first.click()
    phone.locator("section[aria-labelledby=rect-new] textarea").wait_for()
    phone.fill("section[aria-labelledby=rect-new] input[type=number]", "100")
    phone.fill("section[aria-labelledby=rect-new] textarea", "Daily stock check in place; fast sellers restocked the same day")
    phone.locator("section[aria-labelledby=rect-new] input[type=file]").set_input_files([photo_file("done-en", hue=90)])
    phone.locator("section[aria-labelledby=rect-new] .m-photos img").wait_for()
    phone.locator("#rect-submit").click()
    phone.wait_for_url(f"{server}/m/")
    wait_until(phone, "document.querySelector('#rect-wait') !== null")
    assert unsynced(phone) >= 2
    _shot(shot, phone, "h18-depthead-phone-submitted-offline-en")

    phone.locator(f"section[aria-labelledby=rect-due] a[href='{second}']").click()
    phone.locator("section[aria-labelledby=rect-new] textarea").wait_for()
    phone.fill("section[aria-labelledby=rect-new] input[type=number]", "80")
    phone.fill("section[aria-labelledby=rect-new] textarea", "80% done, waiting for a spare part")
    phone.locator("section[aria-labelledby=rect-new] input[type=file]").set_input_files([photo_file("partial-en", hue=60)])
    phone.locator("section[aria-labelledby=rect-new] .m-photos img").wait_for()
    phone.locator("#rect-record").click()
    phone.locator(".rect-update").wait_for()
    # Meanwhile the head submits the second one for acceptance on the desk.
    dctx, desk = signed_in(browser, server, *HEAD, "en", DESKTOP)
    desk.goto(f"{server}/rectification/{second.rsplit('/', 1)[1]}")
    desk.locator("form[action$='/submit'] button[type=submit]").click()
    desk.wait_for_load_state()
    dctx.close()

    ctx.set_offline(False)
    wait_until(phone, "navigator.onLine")
    phone.evaluate("delete document.body.dataset.sync")
    phone.locator("#sync-now").click()
    wait_until(phone, "document.body.dataset.sync === 'done'")
    phone.goto(f"{server}{first}")
    phone.locator("#rect-history").wait_for()
    assert phone.locator("#rect-submit").count() == 0  # awaiting acceptance
    _shot(shot, phone, "h18-depthead-phone-awaiting-en")
    phone.goto(f"{server}{second}")
    phone.locator(".m-state-rejected").wait_for()
    assert "80%" in phone.locator(".rect-update").first.inner_text()
    assert phone.locator(".rect-update img").count() == 1
    _shot(shot, phone, "h18-depthead-phone-refused-en")
    ctx.close()
