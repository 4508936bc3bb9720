"""The phone's list of visits: each visit's sync badge is the state of its own records. The list
reads every visit's records, the outbox and the photos at once (static/js/app/status.js,
`visitStates`) rather than once per visit and per record; a change queued offline in one visit
must mark that visit, and only that one, until it is sent."""

from playwright.sync_api import expect

from e2e.conftest import PHONE
from e2e.phone import add_interview, open_app, snap, visit_id_from_url, wait_synced


def test_a_change_queued_offline_marks_its_visit_only(browser, server, shot):
    ctx = browser.new_context(locale="zh-CN", **PHONE)
    page = ctx.new_page()
    open_app(page, server)
    rows = page.locator(".m-groups li")
    rows.first.wait_for(state="attached")
    total = rows.count()
    assert total > 1
    expect(page.locator(".m-groups li .sync-synced")).to_have_count(total)

    page.get_by_role("link", name="徐汇门店").first.click()
    page.wait_for_url("**/m/visit/**")
    visit_id = visit_id_from_url(page.url)
    ctx.set_offline(True)
    add_interview(page, "陈静", "值班经理", "交接班记录由值班经理签字")

    page.goto(server + "/m/")  # offline: the shell from the service worker, the list from IndexedDB
    page.wait_for_selector("body[data-ready]")
    ours = page.locator(f".m-groups li:has(a[href='/m/visit/{visit_id}'])")
    expect(ours.locator(".sync-pending")).to_have_text("未同步")
    expect(page.locator(".m-groups li .sync-pending")).to_have_count(1)
    expect(page.locator(".m-groups li .sync-synced")).to_have_count(total - 1)
    snap(shot, page, "phone-home-one-visit-pending-zh")

    ctx.set_offline(False)
    wait_synced(page, timeout=60000)
    expect(ours.locator(".sync-synced")).to_be_visible()
    expect(page.locator(".m-groups li .sync-synced")).to_have_count(total)
    ctx.close()
