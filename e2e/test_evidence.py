"""Evidence on a phone: check in inside the geofence and check out outside it (the reason asked),
offline, with a device clock 3 days behind; back online the desk shows the check-ins, the distances
and the clock flag. Also the public verify page. Screenshots: e2e/artifacts/evidence-*.png, or
docs/screenshots/evidence-*.png with UPDATE_DOCS_SCREENSHOTS=1."""

import os
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e.conftest import ARTIFACTS, DESKTOP, ROOT, login, serve
from e2e.phone import open_app, photo_file, sync_now, visit_id_from_url, wait_synced

SITE = (31.1889, 121.4368)  # 徐汇门店 for this test
PHONE_390 = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
# The documentation's screenshots are refreshed only when asked (UPDATE_DOCS_SCREENSHOTS=1): a test run
# leaves the tracked files alone and puts its pictures with the other artifacts.
DOCS = ROOT / "docs" / "screenshots" if os.environ.get("UPDATE_DOCS_SCREENSHOTS") else ARTIFACTS
# The device clock 3 days behind the server's: Date is replaced before any of the app's scripts run.
SKEW = """(() => {
  const Real = Date, skew = -3 * 86400 * 1000;
  class Skewed extends Real {
    constructor(...a) { if (a.length === 0) super(Real.now() + skew); else super(...a); }
    static now() { return Real.now() + skew; }
  }
  globalThis.Date = Skewed;
})();"""


@pytest.fixture(scope="module")
def placed_server(tmp_path_factory):
    """A server of its own whose 徐汇门店 has coordinates and a 200 m geofence (the demo's have none)."""
    inst = tmp_path_factory.mktemp("evidence")
    with serve(inst) as base:
        with sqlite3.connect(inst / "e2e.db") as conn:
            conn.execute("UPDATE sites SET lat = ?, lng = ?, geofence_radius_m = 200 WHERE name = '徐汇门店'", SITE)
        yield base


def _docs_shot(page, name):
    DOCS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(DOCS / f"{name}.png"))


def test_checkin_offline_wrong_clock_flagged_on_desk(browser, placed_server):
    server = placed_server
    ctx = browser.new_context(locale="zh-CN", geolocation={"latitude": SITE[0] + 0.0005, "longitude": SITE[1],
                                                           "accuracy": 15}, **PHONE_390)
    ctx.grant_permissions(["geolocation"], origin=server)
    ctx.add_init_script(SKEW)
    page = ctx.new_page()
    open_app(page, server)
    page.get_by_role("link", name="徐汇门店").first.click()
    page.wait_for_url("**/m/visit/**")
    visit_id = visit_id_from_url(page.url)

    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready]")
    card = page.locator(".m-checkin")
    card.get_by_role("button", name="签到").click()
    expect(page.locator(".m-checkin-status")).to_contain_text("已签到")
    _docs_shot(page, "evidence-checkin-inside-zh-CN-phone")

    # 1.1 km away: the phone asks why, and will not save without a reason.
    ctx.set_geolocation({"latitude": SITE[0] + 0.01, "longitude": SITE[1], "accuracy": 30})
    page.locator(".m-checkin").get_by_role("button", name="签退").first.click()
    ask = page.locator(".m-checkin-ask")
    expect(ask.get_by_role("alert")).to_contain_text("地理围栏外")
    _docs_shot(page, "evidence-checkin-outside-zh-CN-phone")
    ask.locator("button[type=submit]").click()
    assert page.evaluate("document.querySelector('.m-checkin-ask textarea').validity.valueMissing")
    expect(page.locator(".m-checkin-status")).not_to_contain_text("已签退")
    ask.get_by_label("原因（在地理围栏外时必填）").fill("门店入口施工，在对面停车场签退")
    ask.locator("button[type=submit]").click()
    expect(page.locator(".m-checkin-status")).to_contain_text("已签退")

    # A finding with a photo, still offline and on the wrong clock.
    page.goto(f"{server}/m/visit/{visit_id}/findings")
    page.wait_for_selector("body[data-ready]")
    page.get_by_role("button", name="新增问题").click()
    page.get_by_label("标题").fill("灭火器过期未更换")
    page.get_by_label("标题").blur()
    page.locator("input[type=file]").set_input_files(photo_file("extinguisher", size=(1600, 1200), hue=40))
    page.locator(".m-photos img").wait_for()
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/findings")

    ctx.set_offline(False)
    sync_now(page)
    wait_synced(page, timeout=60000)
    ctx.close()

    for lang, words, flag in (("zh-CN", "设备时钟慢 3 天", "时钟异常"), ("en", "device clock 3 days behind", "Clock flag")):
        desk = browser.new_context(locale=lang, **DESKTOP)
        mp = desk.new_page()
        login(mp, server, "manager", "manager-demo-2026")
        button = mp.locator(f".topbar .locale-switch button[lang='{lang}']")
        if button.get_attribute("aria-pressed") != "true":
            button.click()
            mp.wait_for_load_state()
        mp.goto(f"{server}/visits/{visit_id}")
        panel = mp.locator(".evidence-panel")
        expect(panel).to_contain_text(flag)
        expect(panel).to_contain_text(words)
        expect(panel.locator("tbody tr")).to_have_count(2)
        expect(panel).to_contain_text("门店入口施工，在对面停车场签退")
        expect(panel).to_contain_text("1112" if lang == "en" else "1112 米")
        panel.scroll_into_view_if_needed()
        DOCS.mkdir(parents=True, exist_ok=True)
        panel.screenshot(path=str(DOCS / f"evidence-checkins-{lang}-desktop.png"))
        mp.goto(server + "/findings/")
        href = mp.get_by_role("link", name="灭火器过期未更换").first.get_attribute("href")
        mp.goto(server + href)  # the finding's own page
        ev = mp.locator(".evidence-panel")
        expect(ev).to_contain_text(flag)
        expect(ev).to_contain_text(words)
        expect(ev.locator(".evidence-item")).to_have_count(1)
        src = mp.locator(".photo-gallery a").first.get_attribute("href")
        r = desk.request.get(server + src)  # the display rendition: watermarked
        assert r.status == 200 and 'wm-' in r.headers["etag"]
        ev.scroll_into_view_if_needed()
        ev.screenshot(path=str(DOCS / f"evidence-panel-{lang}-desktop.png"))
        desk.close()


def test_outside_the_fence_on_a_phone_in_english(browser, placed_server):
    server = placed_server
    ctx = browser.new_context(locale="en", geolocation={"latitude": SITE[0] + 0.004, "longitude": SITE[1]},
                              **PHONE_390)
    ctx.grant_permissions(["geolocation"], origin=server)
    page = ctx.new_page()
    open_app(page, server)
    button = page.locator(".locale-switch button[lang='en']")
    if button.count() and button.first.get_attribute("aria-pressed") != "true":
        button.first.click()
        page.wait_for_selector("body[data-ready]")
    page.get_by_role("link", name="Xuhui Store").first.click()
    page.wait_for_url("**/m/visit/**")
    page.locator(".m-checkin").get_by_role("button", name="Check in").click()
    expect(page.locator(".m-checkin-ask").get_by_role("alert")).to_contain_text("outside its geofence")
    _docs_shot(page, "evidence-checkin-outside-en-phone")
    ctx.close()


def test_verify_page(browser, placed_server, tmp_path):
    server = placed_server
    for lang in ("en", "zh-CN"):
        ctx = browser.new_context(locale=lang, **DESKTOP)
        page = ctx.new_page()
        page.goto(f"{server}/verify")
        f = photo_file("not-evidence", size=(400, 300))
        path = Path(tmp_path) / f["name"]
        path.write_bytes(f["buffer"])
        page.locator("#verify-file").set_input_files(str(path))
        page.locator(".verify-form button[type=submit]").click()
        expect(page.locator(".verify-result.no-match")).to_be_visible()
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"evidence-verify-{lang}-desktop.png"))
        ctx.close()
