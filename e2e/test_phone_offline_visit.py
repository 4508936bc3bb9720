"""The heart of the product: a whole site visit on a phone with no signal, then sync."""

from playwright.sync_api import expect

from e2e.conftest import DESKTOP, PHONE, login
from e2e.phone import (
    add_interview,
    open_app,
    photo_file,
    snap,
    unsynced,
    visit_id_from_url,
    wait_synced,
    wait_until,
)


def test_offline_visit_with_photos_syncs_and_management_sees_it(browser, server, shot):
    ctx = browser.new_context(locale="zh-CN", **PHONE)
    page = ctx.new_page()
    open_app(page, server)
    snap(shot, page, "phone-01-visits-zh")
    page.get_by_role("link", name="徐汇门店").first.click()  # the in-progress visit sorts first (history below)
    page.wait_for_url("**/m/visit/**")
    visit_id = visit_id_from_url(page.url)

    # No signal from here on; the reloaded page comes from the service worker's cache.
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready]")
    expect(page.locator("#net")).to_have_text("离线")
    snap(shot, page, "phone-02-offline-checklist-zh")

    items = page.locator("article.m-item")
    items.nth(0).locator(".m-res-pass").click()
    items.nth(1).locator(".m-res-na").click()
    failed = items.nth(2)  # P3 requires a photo on fail
    failed.locator(".m-res-fail").click()
    failed = page.locator("article.m-item").nth(2)
    expect(failed.get_by_text("不合格项必须附照片。")).to_be_visible()
    failed.locator(".m-photo-add input[type=file]").set_input_files(photo_file("p3-fail"))
    expect(page.locator("article.m-item").nth(2).locator(".m-photos img")).to_have_count(1)
    expect(page.locator("article.m-item").nth(2).get_by_text("不合格项必须附照片。")).to_have_count(0)
    snap(shot, page, "phone-03-failed-item-photo-zh")

    # Finding 1: from the failed item, photo carried over, titled with one of the item's common
    # problems, one more photo added.
    page.locator("article.m-item").nth(2).get_by_role("button", name="记录问题").click()
    page.wait_for_url("**/m/finding/**")
    page.get_by_role("button", name="交接记录缺失").click()
    page.get_by_label("表现形式").fill("收银流程未按规定双人复核")
    page.get_by_label("表现形式").blur()
    page.get_by_label("严重程度").select_option("high")
    page.locator("input[type=file]").set_input_files(photo_file("finding1-b", hue=90))
    wait_until(page, "document.querySelectorAll('.m-photos img').length === 2")
    snap(shot, page, "phone-04-finding-editor-zh")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/findings")

    # Finding 2: a new one, with a photo.
    page.get_by_role("button", name="新增问题").click()
    page.get_by_label("标题").fill("消防通道堆放杂物")
    page.get_by_label("标题").blur()
    page.get_by_label("影响范围").fill("紧急疏散受阻")
    page.get_by_label("督导内容").select_option("risk")
    page.get_by_label("责任人").select_option("吴敏")
    page.locator("input[type=file]").set_input_files(photo_file("finding2", hue=160))
    page.locator(".m-photos img").wait_for()
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/findings")
    # Ours are on the list beside the seeded one (and whatever earlier tests on this server added).
    for title in ("交接记录缺失", "消防通道堆放杂物"):
        expect(page.locator(".m-list li", has_text=title).first).to_be_visible()
    assert page.locator(".m-list li").count() >= 3
    snap(shot, page, "phone-05-findings-offline-zh")

    # An interview and figures.
    add_interview(page, "刘芳", "店长", "补货流程由店长每日确认")
    page.get_by_role("link", name="数据收集").click()
    page.get_by_label("名称").fill("晚高峰排队人数")
    page.get_by_label("数值").fill("1250")
    page.get_by_label("单位").fill("人")
    page.get_by_role("button", name="添加").click()
    page.get_by_text("晚高峰排队人数").wait_for()
    snap(shot, page, "phone-06-data-offline-zh")
    page.get_by_role("link", name="完成").click()
    snap(shot, page, "phone-07-score-by-area-zh")
    queued = unsynced(page)
    assert queued >= 8  # answers, findings, interview, metric and four photos

    # Close the page and open the app again, still offline: everything is still there.
    page.close()
    page = ctx.new_page()
    page.goto(f"{server}/m/visit/{visit_id}/findings")
    page.wait_for_selector("body[data-ready]")
    expect(page.get_by_text("消防通道堆放杂物")).to_be_visible()
    expect(page.get_by_text("交接记录缺失")).to_be_visible()
    assert unsynced(page) == queued
    page.get_by_role("link", name="人员访谈").click()
    expect(page.get_by_text("补货流程由店长每日确认")).to_be_visible()
    snap(shot, page, "phone-08-reopened-offline-zh")

    # Signal again: the `online` event syncs everything, photos included.
    ctx.set_offline(False)
    wait_synced(page, timeout=60000)
    page.get_by_role("link", name="问题").click()
    # Every finding on the list is synced (earlier tests on this server may have added some), ours too.
    for title in ("交接记录缺失", "消防通道堆放杂物"):
        expect(page.locator(".m-list li", has_text=title).first.locator(".sync-synced")).to_be_visible()
    expect(page.locator(".m-list .sync-synced")).to_have_count(page.locator(".m-list li").count())
    snap(shot, page, "phone-09-synced-zh")
    ctx.close()

    # A manager at a desk sees both findings with their photos.
    desk = browser.new_context(locale="zh-CN", **DESKTOP)
    mp = desk.new_page()
    login(mp, server, "manager", "manager-demo-2026")
    for title, n_photos in (("交接记录缺失", 2), ("消防通道堆放杂物", 1)):
        mp.goto(server + "/findings/")
        mp.get_by_role("link", name=title).first.click()
        mp.wait_for_url("**/findings/*")
        detail = mp.locator("main").inner_text()
        assert title in detail
        shas = mp.evaluate("""async (title) => {
            let cursor = 0, more = true;
            while (more) {  // every page: the demo history is more than one
                const r = await fetch('/api/v1/sync/pull?limit=500' + (cursor ? '&cursor=' + cursor : ''));
                const body = await r.json();
                const hit = body.changes.filter(c => c.entity === 'finding' && c.data.title === title);
                if (hit.length) return hit[0].data.photos;
                cursor = body.cursor;
                more = body.more;
            }
            return null;
        }""", title)
        assert len(shas) == n_photos
        for sha in shas:
            r = desk.request.get(f"{server}/api/v1/photos/{sha}")
            assert r.status == 200 and r.headers["content-type"].startswith("image/")
        snap(shot, mp, f"manager-finding-{n_photos}-photos")
    desk.close()
