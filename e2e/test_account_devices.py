"""Signed-in devices (/account/) and the phone told that its account was disabled.

Screens of /account/ on a phone and a desktop in both languages go to docs/screenshots/ with UPDATE_DOCS_SCREENSHOTS=1 (else e2e/artifacts/); the phone
app's "account disabled" banner goes to e2e/artifacts/."""

import json
import subprocess

import pytest
from PIL import Image

from e2e.conftest import DESKTOP, FLASK, ROOT, docs_screenshots, instance_env, login, serve
from e2e.phone import open_app, wait_until

SHOTS = docs_screenshots()  # docs/screenshots/ only with UPDATE_DOCS_SCREENSHOTS=1
ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/126.0 Mobile Safari/537.36")
IPHONE_WECOM = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                "Mobile/15E148 wxwork/4.1.22 Language/zh")
HUAWEI = ("Mozilla/5.0 (Linux; Android 12; HarmonyOS; ALN-AL00) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/114.0 HuaweiBrowser/15.0 Mobile Safari/537.36")
PHONE_390 = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    inst = tmp_path_factory.mktemp("instance-devices")
    with serve(inst) as base:
        yield base, inst


def flask_cli(inst, *args):
    subprocess.run([*FLASK, *args], env=instance_env(inst), check=True, cwd=ROOT, capture_output=True)


def small_png(path, page):
    """A full-page screenshot, reduced to 256 colours: a few dozen kilobytes for the docs."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_account_devices_on_phone_and_desktop(browser, site, lang):
    base, inst = site
    SHOTS.mkdir(parents=True, exist_ok=True)
    flask_cli(inst, "user", "sign-out", "supervisor")  # a clean list for the screenshots
    others = []
    for agent in (ANDROID, IPHONE_WECOM):  # two more devices of the same person
        ctx = browser.new_context(user_agent=agent, locale=lang, **PHONE_390)
        login(ctx.new_page(), base, "supervisor", "supervisor-demo-2026")
        others.append(ctx)
    try:
        for kind, device in (("phone", {**PHONE_390, "user_agent": HUAWEI}),
                             ("desktop", {**DESKTOP, "viewport": {"width": 1366, "height": 800}})):
            ctx = browser.new_context(locale=lang, **device)
            page = ctx.new_page()
            login(page, base, "supervisor", "supervisor-demo-2026")
            button = page.locator(f"form.locale-switch button[lang='{lang}'], .locale-switch button[lang='{lang}']").first
            if button.count() and button.get_attribute("aria-pressed") != "true":
                button.click()
                page.wait_for_load_state()
            page.goto(base + "/account/")
            assert page.locator(".device.is-current").count() == 1
            names = page.locator(".device h3").all_inner_texts()
            assert any("Android" in n for n in names) and any("iPhone" in n for n in names)
            if kind == "phone":  # nothing wider than the screen
                assert page.evaluate("document.documentElement.scrollWidth") <= 390
            tag = "zh-CN" if lang == "zh-CN" else "en"
            small_png(SHOTS / f"account-devices-{tag}-{kind}.png", page)
            ctx.close()
        # Sign out the Android phone from the last page: it is signed out at once.
        ctx = browser.new_context(locale=lang, **DESKTOP)
        page = ctx.new_page()
        login(page, base, "supervisor", "supervisor-demo-2026")
        page.goto(base + "/account/")
        android = page.locator(".device", has=page.locator("h3", has_text="Android")).first
        android.locator("button[type=submit]").click()
        page.wait_for_load_state()
        gone = others[0].new_page()
        gone.goto(base + "/account/")
        assert "/login" in gone.url
        ctx.close()
    finally:
        for c in others:
            c.close()


def test_a_disabled_account_keeps_the_phone_data_and_offers_the_export(browser, site, tmp_path):
    base, inst = site
    ctx = browser.new_context(locale="zh-CN", accept_downloads=True, **PHONE_390)
    page = ctx.new_page()
    open_app(page, base, "supervisor2", "supervisor-demo-2026")
    # An edit waiting in the outbox (written as the app writes it: the record and its mutation).
    page.evaluate("""async () => {
      const d = await new Promise((ok, no) => { const r = indexedDB.open("supervision", 1); r.onsuccess = () => ok(r.result); r.onerror = no; });
      const tx = d.transaction(["outbox"], "readwrite");
      tx.objectStore("outbox").add({key: "finding:7d8f1f5e-0000-4000-8000-000000000001", mutation_id: crypto.randomUUID(),
        entity: "finding", id: "7d8f1f5e-0000-4000-8000-000000000001", op: "upsert", base_version: 0,
        data: {title: "离线记录的问题"}, client_time: new Date().toISOString(), state: "queued", attempted: false, error: null});
      await new Promise((ok) => { tx.oncomplete = ok; });
    }""")
    flask_cli(inst, "user", "disable", "supervisor2")
    page.click("#sync-now")
    page.wait_for_selector("#b-auth[data-code=account_disabled]")
    banner = page.locator("#b-auth")
    assert "停用" in banner.inner_text()
    assert banner.get_attribute("role") == "alert"
    assert banner.locator("a[href^='/login']").count() == 0  # signing in again cannot help
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path="/tmp/h-devices/phone-account-disabled.png")
    with page.expect_download() as info:
        banner.locator("#auth-export").click()
    with open(info.value.path(), encoding="utf-8") as f:
        body = json.load(f)
    assert body["format"] == "supervision-unsynced-v1"
    assert [m["data"]["title"] for m in body["mutations"]] == ["离线记录的问题"]
    wait_until(page, "document.getElementById('unsynced').dataset.n === '1'")  # still on the phone
    ctx.close()
