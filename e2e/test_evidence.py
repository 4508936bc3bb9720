"""Evidence on a phone: check in inside the geofence and check out outside it (the reason asked),
offline, with a device clock 3 days behind; back online the desk shows the check-ins, the distances
and the clock flag. Also the public verify page. Screenshots: e2e/artifacts/evidence-*.png, or
docs/screenshots/evidence-*.png with UPDATE_DOCS_SCREENSHOTS=1."""

import hashlib
import os
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from e2e.conftest import ARTIFACTS, DESKTOP, ROOT, login, serve
from e2e.phone import open_app, photo_file, show_phone_language, sync_now, visit_id_from_url, wait_synced

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


INSTANCES: dict[str, Path] = {}  # a server's base URL → its instance folder (its database)


@pytest.fixture(scope="module")
def placed_server(tmp_path_factory):
    """A server of its own whose 徐汇门店 has coordinates and a 200 m geofence (the demo's have none)."""
    inst = tmp_path_factory.mktemp("evidence")
    with serve(inst) as base:
        with sqlite3.connect(inst / "e2e.db") as conn:
            conn.execute("UPDATE sites SET lat = ?, lng = ?, geofence_radius_m = 200 WHERE name = '徐汇门店'", SITE)
        INSTANCES[base] = inst
        yield base


EVIDENCE_LABELS = {
    "en": {"captured": "Captured (device clock)", "received": "Received by the server",
           "estimated": "Estimated capture time"},
    "zh-CN": {"captured": "拍摄时间（设备时钟）", "received": "服务器接收时间", "estimated": "推算的真实拍摄时间"},
}


def _panel_time(panel, label, lang) -> datetime:
    """A time the evidence panel shows beside `label` (a short date and time in the reader's language)."""
    text = panel.locator("dt", has_text=label).first.locator("xpath=following-sibling::dd[1]").inner_text()
    text = " ".join(text.replace("\u202f", " ").split())
    return datetime.strptime(text, "%m/%d/%y, %I:%M %p" if lang == "en" else "%Y/%m/%d %H:%M")


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
        # the short hash, and the capture time as the device said (3 days behind), as received and
        # as estimated (the device's time corrected by the measured offset: close to the receipt)
        sha = re.search(r"/photos/([0-9a-f]{64})", src).group(1)
        expect(ev.locator("code").first).to_have_text(sha[:8])
        labels = EVIDENCE_LABELS[lang]
        captured, received, estimated = (_panel_time(ev, labels[k], lang) for k in ("captured", "received", "estimated"))
        assert timedelta(days=3) - timedelta(minutes=15) < received - captured < timedelta(days=3, minutes=15), \
            (captured, received)
        assert abs(received - estimated) < timedelta(minutes=15), (estimated, received)
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
    show_phone_language(page, "en")
    page.get_by_role("link", name="Xuhui Store").first.click()
    page.wait_for_url("**/m/visit/**")
    visit_id = visit_id_from_url(page.url)
    page.locator(".m-checkin").get_by_role("button", name="Check in").click()
    ask = page.locator(".m-checkin-ask")
    expect(ask.get_by_role("alert")).to_contain_text("outside its geofence")
    _docs_shot(page, "evidence-checkin-outside-en-phone")
    reason = "Entrance closed for works, checked in across the street"
    ask.get_by_label("Reason (required outside the geofence)").fill(reason)
    ask.locator("button[type=submit]").click()
    expect(page.locator(".m-checkin-status")).to_contain_text("Checked in")
    sync_now(page)  # online: "Sync now" rather than the automatic sync three seconds after the save
    wait_synced(page)
    ctx.close()
    # stored on the server: outside the fence (445 m from the site), with the reason
    with sqlite3.connect(INSTANCES[server] / "e2e.db") as conn:
        rows = conn.execute("SELECT kind, distance_m, in_fence, reason FROM visit_checkins WHERE visit_id = ? "
                            "AND deleted_at IS NULL AND reason = ?", (visit_id, reason)).fetchall()
    assert len(rows) == 1, rows
    kind, distance, in_fence, _reason = rows[0]
    assert kind == "in" and not in_fence and 430 < distance < 460, rows


def test_inside_the_fence_on_a_phone_in_english(browser, placed_server):
    """A check-in 56 m from the site: inside the geofence, no reason asked (a visit of its own)."""
    from e2e.test_phone_faster_visit import _start_adhoc

    server = placed_server
    ctx = browser.new_context(locale="en", geolocation={"latitude": SITE[0] + 0.0005, "longitude": SITE[1],
                                                        "accuracy": 15}, **PHONE_390)
    ctx.grant_permissions(["geolocation"], origin=server)
    page = ctx.new_page()
    open_app(page, server)
    show_phone_language(page, "en")
    _start_adhoc(page, "Xuhui Store", "Start")
    page.locator(".m-checkin").get_by_role("button", name="Check in").click()
    expect(page.locator(".m-checkin-status")).to_contain_text("Checked in")
    expect(page.locator(".m-checkin-ask textarea")).to_have_count(0)  # no reason asked
    _docs_shot(page, "evidence-checkin-inside-en-phone")
    ctx.close()


def _stored_photo(server, desk):
    """(sha, original bytes, its date as stored) of a demo finding's photo, fetched as a manager does."""
    mp = desk.pages[0]
    mp.goto(server + "/findings/")
    href = mp.get_by_role("link", name="门店与仓库补货沟通不畅").first.get_attribute("href")
    mp.goto(server + href)
    src = mp.locator(".photo-gallery a").first.get_attribute("href")
    sha = re.search(r"/photos/([0-9a-f]{64})", src).group(1)
    r = desk.request.get(f"{server}/api/v1/photos/{sha}?variant=original")
    assert r.status == 200 and hashlib.sha256(r.body()).hexdigest() == sha
    return sha, r.body()


def _medium_date(db_path, sha, lang):
    """The date the verify page shows for a stored photo: its capture time, else its upload time,
    as a medium date in the app's zone."""
    with sqlite3.connect(db_path) as conn:
        captured, uploaded = conn.execute("SELECT captured_at, uploaded_at FROM photos WHERE sha256 = ?",
                                          (sha,)).fetchone()
    t = datetime.fromisoformat(str(captured or uploaded))
    t = t if t.tzinfo else t.replace(tzinfo=UTC)
    return format_date(t.astimezone(ZoneInfo("Asia/Shanghai")).date(), "medium",
                       locale="en" if lang == "en" else "zh_Hans_CN")


def test_verify_page(browser, placed_server, tmp_path):
    """No match for a file never stored; "Match" with the date and the full SHA-256 for a stored
    original (anonymous: the date only; signed in: the site too), in both languages."""
    server = placed_server
    db_path = INSTANCES[server] / "e2e.db"
    desk = browser.new_context(locale="zh-CN", **DESKTOP)
    login(desk.new_page(), server, "manager", "manager-demo-2026")
    sha, original = _stored_photo(server, desk)
    stored = Path(tmp_path) / "original.jpg"
    stored.write_bytes(original)
    f = photo_file("not-evidence", size=(400, 300))
    other = Path(tmp_path) / f["name"]
    other.write_bytes(f["buffer"])
    words = {"en": ("Match", "No match", "at site 徐汇门店"), "zh-CN": ("一致", "不一致", "在运营场所“徐汇门店”")}
    for lang in ("en", "zh-CN"):
        match, no_match, at_site = words[lang]
        ctx = browser.new_context(locale=lang, **DESKTOP)
        page = ctx.new_page()
        page.goto(f"{server}/verify")
        page.locator("#verify-file").set_input_files(str(other))
        page.locator(".verify-form button[type=submit]").click()
        result = page.locator(".verify-result.no-match")
        expect(result).to_be_visible()
        expect(result.locator(".verify-verdict strong")).to_have_text(no_match)
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"evidence-verify-{lang}-desktop.png"))
        # the stored original, anonymous: "Match", the date and the full hash, not the site
        page.locator("#verify-file").set_input_files(str(stored))
        page.locator(".verify-form button[type=submit]").click()
        result = page.locator(".verify-result.match")
        expect(result.locator(".verify-verdict strong")).to_have_text(match)
        expect(result).to_contain_text(_medium_date(db_path, sha, lang))
        expect(result.locator("code.hash")).to_have_text(sha)
        expect(result).not_to_contain_text("徐汇门店")
        ctx.close()
        # signed in as a manager who may see the photo: the site as well
        mgr = browser.new_context(locale=lang, **DESKTOP)
        page = mgr.new_page()
        login(page, server, "manager", "manager-demo-2026")
        page.goto(f"{server}/verify")
        page.locator("#verify-file").set_input_files(str(stored))
        page.locator(".verify-form button[type=submit]").click()
        result = page.locator(".verify-result.match")
        expect(result.locator(".verify-verdict strong")).to_have_text(match)
        expect(result).to_contain_text(_medium_date(db_path, sha, lang))
        expect(result).to_contain_text(at_site)
        expect(result.locator("code.hash")).to_have_text(sha)
        page.screenshot(path=str(DOCS / f"evidence-verify-match-{lang}-desktop.png"))
        mgr.close()
    desk.close()
