"""A company set up, run and offboarded without a terminal (issue: administration and sign-in).

An administrator onboards people and a site from an Excel file (a deliberate error row is reported,
fixed and uploaded again); the new supervisor signs in with the temporary password, must choose
their own, and runs a visit on the phone. The phone is closed and opened again a day later — a real
browser restart (a persistent profile: session cookies are gone, IndexedDB and the service worker
stay) with the server's clock moved a day on (libfaketime) — and syncs without signing in again.
Then the administrator disables the account: the phone's next sync is refused with a clear message,
and its unsynced work stays on the phone and can be exported.
"""

import glob
import json
import os
import shutil
import sys

import pytest
from playwright.sync_api import expect

from e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, ROOT, login
from e2e.phone import Deployment, snap, unsynced, wait_synced, wait_until

PHONE_390 = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
             "has_touch": True}
FAKETIME = next(iter(sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))), None)


def _sample(fixed: bool) -> bytes:
    """The committed sample workbook's content (tools/make_onboarding_sample.py), as is or with the
    error row corrected (role "boss" → 员工)."""
    sys.path.insert(0, str(ROOT / "tools"))
    import make_onboarding_sample as sample

    if not fixed:
        return (ROOT / "e2e" / "data" / "onboarding-sample.xlsx").read_bytes()
    saved = json.loads(json.dumps(sample.ROWS))
    try:
        for row in sample.ROWS["users"]:
            if row["role"] == "boss":
                row["role"] = "员工"
        return sample.build()
    finally:
        sample.ROWS.clear()
        sample.ROWS.update(saved)


class ClockedServer(Deployment):
    """The app (seeded demo, gunicorn) with a clock that the test moves: libfaketime reads the offset
    from a file on every call, so the running server jumps forward without a restart."""

    def __init__(self, inst):
        super().__init__(inst)
        self.clock = inst / "faketime"
        self.clock.write_text("+0\n")

    def start(self):
        self.seed()
        # --timeout 0: gunicorn's worker heartbeat compares file times (real) with time.time() (moved).
        super().start(env={"LD_PRELOAD": FAKETIME, "FAKETIME_TIMESTAMP_FILE": str(self.clock),
                           "FAKETIME_NO_CACHE": "1"},
                      args=("-w", "2", "--timeout", "0", "--graceful-timeout", "3"))

    def move_clock(self, offset: str):
        self.clock.write_text(offset + "\n")


@pytest.fixture
def clocked(tmp_path):
    if FAKETIME is None:
        if os.environ.get("CI") == "true":
            pytest.fail("libfaketime is missing (apt-get install faketime): required under CI")
        pytest.skip("libfaketime is missing (apt-get install faketime)")
    (tmp_path / "instance").mkdir()
    server = ClockedServer(tmp_path / "instance")
    server.start()
    yield server
    server.stop()


def _phone(browser, profile):
    """The phone's browser, started on a profile kept on disk: closing it and starting it again is a
    browser restart (session cookies are dropped; lasting cookies, IndexedDB, the service worker stay)."""
    return browser.browser_type.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, locale="zh-CN", accept_downloads=True,
        **PHONE_390)


def _open_app(page, base):
    page.goto(base + "/m/")
    page.wait_for_selector("body[data-ready]")
    wait_until(page, "navigator.serviceWorker.controller !== null", timeout=20000)
    wait_synced(page)


def test_a_company_onboarded_run_and_offboarded_in_the_browser(browser, clocked, tmp_path, shot):
    base = clocked.base
    desk = browser.new_context(locale="zh-CN", **DESKTOP)
    admin = desk.new_page()
    login(admin, base, "admin", "admin-demo-2026")

    # 1. The import: the error row is reported by row and column, and nothing is saved.
    admin.goto(base + "/admin/import/")
    admin.set_input_files("#import-file", {"name": "company.xlsx", "buffer": _sample(fixed=False),
                                           "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    admin.locator("form[enctype] button[type=submit]").click()
    admin.wait_for_load_state()
    body = admin.locator("main").inner_text()
    assert "boss" in body and "第 3 行" in body and "角色" in body, body[:2000]
    assert admin.get_by_role("button", name="确认导入").count() == 0 or admin.get_by_role(
        "button", name="确认导入").is_disabled()
    snap(shot, admin, "company-01-import-error-zh")
    # Fixed and uploaded again: confirmed, the temporary password shown once.
    admin.goto(base + "/admin/import/")
    admin.set_input_files("#import-file", {"name": "company-fixed.xlsx", "buffer": _sample(fixed=True),
                                           "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    admin.locator("form[enctype] button[type=submit]").click()
    admin.wait_for_load_state()
    admin.get_by_role("button", name="确认导入").click()
    admin.wait_for_load_state()
    row = admin.locator("tr", has_text="e2e.supervisor")
    temporary = row.locator("code.temp-password").inner_text().strip()
    assert len(temporary) >= 10
    snap(shot, admin, "company-02-import-saved-zh")

    # 2. The new supervisor's phone: the temporary password must be replaced first.
    profile = tmp_path / "phone-profile"
    phone = _phone(browser, profile)
    page = phone.pages[0] if phone.pages else phone.new_page()
    page.goto(base + "/login")
    page.fill("#username", "e2e.supervisor")
    page.fill("#password", temporary)
    page.click("button[type=submit].btn-primary")
    page.wait_for_url("**/password**")
    page.get_by_label("当前密码").fill(temporary)
    page.get_by_label("新密码", exact=True).fill("harbour lantern orchid 2026")
    page.get_by_label("再次输入新密码").fill("harbour lantern orchid 2026")
    page.get_by_role("button", name="修改密码").click()
    page.wait_for_load_state()
    assert "/password" not in page.url

    # A visit at the imported site: one answer synced, one left offline when the phone is closed.
    _open_app(page, base)
    page.locator("summary", has_text="发起临时督导").click()
    page.locator("form.m-form select").select_option(label="导入测试门店")
    page.locator("form.m-form button[type=submit]").click()
    page.wait_for_url("**/m/visit/**")
    page.locator("article.m-item").nth(0).locator(".m-res-pass").click()
    wait_until(page, "document.getElementById('unsynced').dataset.n !== '0'")
    page.locator("#sync-now").click()
    wait_synced(page)
    phone.set_offline(True)
    page.locator("article.m-item").nth(1).locator(".m-res-pass").click()
    wait_until(page, "document.getElementById('unsynced').dataset.n !== '0'")
    snap(shot, page, "company-03-phone-offline-answer-zh")
    phone.close()

    # 3. A day later: the browser starts again, the server's clock is a day on; no sign-in needed.
    clocked.move_clock("+1d")
    phone = _phone(browser, profile)
    page = phone.pages[0] if phone.pages else phone.new_page()
    page.goto(base + "/m/")
    page.wait_for_selector("body[data-ready]")
    assert "/login" not in page.url
    if unsynced(page):
        page.locator("#sync-now").click()
    wait_synced(page)
    snap(shot, page, "company-04-phone-next-day-synced-zh")

    # 4. Offboarding: more work recorded offline, then the administrator disables the account.
    page.locator(".m-list a", has_text="导入测试门店").first.click()
    page.wait_for_url("**/m/visit/**")
    phone.set_offline(True)
    page.locator("article.m-item").nth(2).locator(".m-res-pass").click()
    wait_until(page, "document.getElementById('unsynced').dataset.n !== '0'")
    waiting = unsynced(page)
    admin.goto(base + "/admin/users/?q=e2e.supervisor")
    admin.get_by_role("link", name="导入督导员").click()
    admin.get_by_role("button", name="停用账号").click()
    admin.wait_for_load_state()
    expect(admin.locator("main")).to_contain_text("已停用")

    phone.set_offline(False)
    page.locator("#sync-now").click()
    banner = page.locator("#b-auth[data-code=account_disabled]")
    banner.wait_for()
    assert "停用" in banner.inner_text()
    assert unsynced(page) == waiting  # nothing lost
    snap(shot, page, "company-05-phone-account-disabled-zh")
    with page.expect_download() as info:
        banner.locator("#auth-export").click()
    with open(info.value.path(), encoding="utf-8") as f:
        exported = json.load(f)
    assert len(exported["mutations"]) == waiting
    phone.close()
    desk.close()
    shutil.rmtree(profile, ignore_errors=True)
