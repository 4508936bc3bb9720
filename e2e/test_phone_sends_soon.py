"""An online phone sends what the supervisor saves within seconds, without "Sync now" and without
waiting for the minute's automatic sync; a change saved while a sync is under way goes out in the
sync after it; offline, nothing is attempted until the phone is back online. A manager's review queue,
left open, tells of a finding that arrived and links to the refreshed list."""

import json
import time

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from e2e.conftest import signed_in
from e2e.phone import open_app, snap, unsynced, wait_synced, wait_until
from e2e.test_phone_faster_visit import PHONE_390, _start_adhoc

# The minute's automatic sync first fires a minute after the page loads: a push seen before this
# many seconds after loading was started by the save.
BEFORE_THE_MINUTE = 50


def _pushes(page) -> list:
    """(monotonic time, mutations sent, statuses answered) of every push the page makes."""
    seen = []

    def on_response(resp):
        if "/api/v1/sync/push" in resp.url and resp.request.method == "POST":
            sent = json.loads(resp.request.post_data or "{}").get("mutations", [])
            try:
                results = resp.json().get("results", []) if resp.ok else []
            except PlaywrightError:  # the page closed before the body was read
                results = []
            seen.append((time.monotonic(), [(m["entity"], m.get("data", {})) for m in sent],
                         [r["status"] for r in results]))

    page.on("response", on_response)
    return seen


def test_a_saved_answer_reaches_the_server_within_seconds(browser, server, shot):
    ctx = browser.new_context(locale="zh-CN", **PHONE_390)
    page = ctx.new_page()
    open_app(page, server)
    _start_adhoc(page, "徐汇门店", "开始")
    wait_synced(page)

    loaded = time.monotonic()
    page.reload()  # the minute's timer starts again from here
    page.wait_for_selector("body[data-ready]")
    wait_synced(page)
    pushes = _pushes(page)

    # Online: one answer at the end of the checklist, no "Sync now" pressed.
    saved = time.monotonic()
    last = page.locator("article.m-item").last
    last.locator(".m-res-pass").click()
    wait_until(page, "document.getElementById('unsynced').dataset.n !== '0'")
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 500
    wait_synced(page, timeout=(loaded + BEFORE_THE_MINUTE - time.monotonic()) * 1000)
    # The page redrawn after the sync stays where the supervisor was, with the answer shown.
    page.wait_for_timeout(300)
    assert abs(page.evaluate("window.scrollY") - scrolled) < 5
    expect(last.locator(".m-res-pass")).to_have_attribute("aria-pressed", "true")
    sent = [p for p in pushes if p[0] > saved and any(e == "checklist_answer" for e, _ in p[1])]
    assert sent, pushes
    assert sent[0][0] - loaded < BEFORE_THE_MINUTE
    assert set(sent[0][2]) <= {"applied", "merged"}
    expect(page.locator("#unsynced")).to_have_text("已全部同步")
    snap(shot, page, "phone-sent-soon-zh")

    # A change saved while a sync is under way (held at its pull): that sync pushed before the
    # change existed, so another one follows it and sends the change.
    held, released = [], []
    page.route("**/api/v1/sync/pull**", lambda route: held.append(route) if not released else route.continue_())
    page.locator("#sync-now").click()
    wait_until(page, "document.body.dataset.sync === 'syncing'")
    page.wait_for_timeout(300)
    during = time.monotonic()
    page.locator("article.m-item").nth(1).locator(".m-res-fail").click()
    wait_until(page, "document.getElementById('unsynced').dataset.n !== '0'")
    page.wait_for_timeout(4000)  # longer than the delay after a save: the timer is waiting on the sync
    assert not [p for p in pushes if p[0] > during], "pushed while the earlier sync was still running"
    released.append(True)
    for route in held:
        route.continue_()
    wait_synced(page, timeout=(loaded + BEFORE_THE_MINUTE - time.monotonic()) * 1000)
    assert [p for p in pushes if p[0] > during and any(e == "checklist_answer" for e, _ in p[1])], pushes

    # Offline: saved on the phone, nothing attempted; back online, it goes out.
    ctx.set_offline(True)
    offline = time.monotonic()
    page.locator("article.m-item").nth(2).locator(".m-res-pass").click()
    wait_until(page, "document.getElementById('unsynced').dataset.n !== '0'")
    page.wait_for_timeout(4000)
    assert not [p for p in pushes if p[0] > offline]
    assert unsynced(page) >= 1
    ctx.set_offline(False)
    wait_synced(page)
    assert [p for p in pushes if p[0] > offline]
    ctx.close()


def test_the_managers_open_review_queue_learns_of_a_finding_saved_on_a_phone(browser, server, shot):
    desk, mgr = signed_in(browser, server, "manager", "manager-demo-2026", "en")
    mgr.goto(f"{server}/findings/review")
    before = mgr.locator("#rq-awaiting").inner_text()
    opened = time.monotonic()

    ctx = browser.new_context(locale="zh-CN", **PHONE_390)
    page = ctx.new_page()
    open_app(page, server)
    _start_adhoc(page, "徐汇门店", "开始")
    wait_synced(page)
    page.locator("article.m-item").nth(1).locator(".m-res-fail").click()
    page.locator("article.m-item").nth(1).get_by_role("button", name="记录问题").click()
    page.wait_for_url("**/m/finding/**")
    page.get_by_label("标题").fill("收银台排队超过十人无人疏导")
    page.get_by_label("标题").blur()
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/findings")
    wait_synced(page)  # three seconds after the save, no "Sync now"
    ctx.close()

    # The manager's page, opened before and never reloaded, says so within its poll (15 s).
    arrived = mgr.locator("#rq-awaiting .rq-arrived")
    expect(arrived).to_contain_text("1 new finding arrived since this page was opened.", timeout=30000)
    assert time.monotonic() - opened < BEFORE_THE_MINUTE
    assert mgr.locator("#rq-awaiting").inner_text() != before
    assert mgr.locator("#rq-awaiting").get_attribute("role") == "status"
    snap(shot, mgr, "desk-review-queue-new-arrived-en")
    mgr.locator("#rq-awaiting").get_by_role("link", name="Refresh the list").click()
    expect(mgr.locator("a.review-link", has_text="收银台排队超过十人无人疏导")).to_be_visible()
    expect(mgr.locator("#rq-awaiting .rq-arrived")).to_have_count(0)
    desk.close()
