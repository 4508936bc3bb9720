import pytest

from e2e.conftest import DESKTOP, PHONE, login
from webapp.demo.seed import DEMO_USERS

LOCALES = {"zh-CN": ("工作台", "退出"), "en": ("Home", "Sign out")}


@pytest.mark.parametrize("device", ["phone", "desktop"])
@pytest.mark.parametrize("lang", list(LOCALES))
def test_every_role_signs_in_and_sees_its_home(browser, server, shot, device, lang):
    opts = PHONE if device == "phone" else DESKTOP
    ctx = browser.new_context(locale=lang, **opts)
    page = ctx.new_page()
    page.goto(server + "/login")
    shot(page, f"login-{device}-{lang}")
    home_word, sign_out = LOCALES[lang]
    for user in DEMO_USERS:
        login(page, server, user["username"], user["password"])
        nav = page.locator(".bottomnav" if device == "phone" else ".sidebar")
        assert nav.is_visible()
        assert nav.get_by_text(home_word).is_visible()
        if user["username"] in ("supervisor", "manager", "depthead"):
            shot(page, f"home-{user['username']}-{device}-{lang}")
        page.get_by_role("button", name=sign_out).click()
        page.wait_for_url("**/login")
    ctx.close()


def test_wrong_password_shows_a_clear_error(browser, server):
    ctx = browser.new_context(locale="zh-CN", **PHONE)
    page = ctx.new_page()
    page.goto(server + "/login")
    page.fill("#username", "supervisor")
    page.fill("#password", "wrong-password")
    page.click("button[type=submit].btn-primary")
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误。"
    ctx.close()


def test_language_switch(browser, server, shot):
    ctx = browser.new_context(locale="zh-CN", **DESKTOP)
    page = ctx.new_page()
    login(page, server, "manager", "manager-demo-2026")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Hello")
    page.goto(server + "/findings/")
    shot(page, "findings-manager-desktop-en")
    page.get_by_role("button", name="简体中文").click()
    page.wait_for_load_state()
    assert "问题" in page.get_by_role("heading", level=1).inner_text()
    ctx.close()
