"""On a phone, figures and interviews can be corrected or deleted offline, and the server follows."""

import re

from playwright.sync_api import expect

from e2e.conftest import PHONE
from e2e.phone import open_app, snap, unsynced, wait_synced


def _pulled(page, entity, predicate_js):
    """Every page of a fresh pull, filtered (the first page is a snapshot without tombstones; later
    pages, read with a cursor, carry them)."""
    return page.evaluate(f"""async () => {{
        let changes = [], cursor = null;
        for (;;) {{
            const r = await fetch('/api/v1/sync/pull?limit=500' + (cursor === null ? '' : '&cursor=' + cursor));
            const body = await r.json();
            changes = changes.concat(body.changes);
            if (!body.more) break;
            cursor = body.cursor;
        }}
        return changes.filter(c => c.entity === '{entity}').filter({predicate_js});
    }}""")


def test_edit_and_delete_figures_and_interviews_offline(browser, server, shot):
    ctx = browser.new_context(locale="zh-CN", **PHONE)
    page = ctx.new_page()
    page.on("dialog", lambda d: d.accept())  # the "Delete …?" confirmation
    open_app(page, server)
    page.get_by_role("link", name=re.compile("徐汇门店.*进行中")).click()  # the visit under way, not the history
    page.wait_for_url("**/m/visit/**")
    page.get_by_role("link", name="数据收集").click()
    ctx.set_offline(True)

    # A synced figure is corrected in place: the form switches to "Save" and back to "Add".
    row = page.locator("li.m-row", has_text="日均客流")
    row.get_by_role("button", name="修改").click()
    expect(page.get_by_label("名称")).to_have_value("日均客流")
    expect(page.get_by_role("button", name="取消")).to_be_visible()
    page.get_by_label("数值").fill("905")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("li.m-row", has_text="日均客流")).to_contain_text("905")
    expect(page.get_by_role("button", name="添加")).to_be_visible()
    expect(page.get_by_role("button", name="取消")).to_be_hidden()

    # A figure added and deleted before any sync leaves nothing to send.
    before = unsynced(page)
    page.get_by_label("名称").fill("误录数据")
    page.get_by_label("数值").fill("1")
    page.get_by_role("button", name="添加").click()
    page.locator("li.m-row", has_text="误录数据").get_by_role("button", name="删除").click()
    expect(page.locator("li.m-row", has_text="误录数据")).to_have_count(0)
    assert unsynced(page) == before
    snap(shot, page, "phone-records-01-figure-edited-zh")

    # A synced interview is deleted: hidden at once, sent as a deletion.
    page.get_by_role("link", name="人员访谈").click()
    page.locator("li.m-row", has_text="郑浩").first.get_by_role("button", name="删除").click()
    expect(page.locator("li.m-row", has_text="郑浩")).to_have_count(0)
    snap(shot, page, "phone-records-02-interview-deleted-zh")

    ctx.set_offline(False)
    wait_synced(page, timeout=60000)
    page.reload()
    page.wait_for_selector("body[data-ready]")
    expect(page.locator("li.m-row", has_text="郑浩")).to_have_count(0)  # the pull did not bring it back

    visit_id = page.url.split("/m/visit/")[1].split("/")[0]
    figures = _pulled(page, "metric", f"c => c.data.visit_id === '{visit_id}' && c.data.name === '日均客流'")
    assert [f["data"]["value"] for f in figures if not f["deleted"]] == [905]
    assert not _pulled(page, "metric", "c => c.data.name === '误录数据'")
    interviews = _pulled(page, "interview", f"c => c.data.visit_id === '{visit_id}' && c.data.interviewee === '郑浩'")
    assert all(c["deleted"] for c in interviews)  # a tombstone, if anything: the server keeps it in history
    ctx.close()
