"""The organisation pages in a browser: the tree opens and closes with the keyboard, the site form's
manager picker narrows by search (htmx) and follows the department, on a desktop and on a phone."""

import pytest
from playwright.sync_api import expect

from e2e.conftest import ARTIFACTS, DESKTOP, signed_in

PHONE_390 = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
DESKTOP_1366 = {**DESKTOP, "viewport": {"width": 1366, "height": 800}}


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_tree_and_site_form(browser, server, device, lang):
    ctx, page = signed_in(browser, server, "admin", "admin-demo-2026", lang,
                          PHONE_390 if device == "phone" else DESKTOP_1366)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(server + "/admin/org/")
    if not page.get_by_text("E2E-PD").count():
        # a region under the Shanghai branch, made through the form: the tree then has levels
        page.goto(server + "/admin/org/departments/new")
        page.fill("#code", "E2E-PD")
        page.fill("#name", "浦东区域")
        page.fill("#name_en", "Pudong Region")
        page.select_option("#kind", "region")
        sh = page.locator("#parent_id option", has_text="(SH)").get_attribute("value")
        page.select_option("#parent_id", sh)
        page.locator("form.org-form button[type=submit]").click()
        page.wait_for_url("**/admin/org/#dept-*")
    tree = page.locator(".org-tree")
    assert tree.is_visible()
    page.screenshot(path=str(ARTIFACTS / f"admin-org-{lang}-{device}.png"))
    summary = tree.locator("summary").first
    if summary.count():
        summary.focus()
        page.keyboard.press("Enter")  # closes the first branch
        assert summary.locator("xpath=..").get_attribute("open") is None
        page.keyboard.press("Enter")
        assert summary.locator("xpath=..").get_attribute("open") is not None

    page.goto(server + "/admin/org/sites")
    page.locator("table a").first.click()
    page.get_by_role("link", name="编辑场所" if lang == "zh-CN" else "Edit site").click()
    page.screenshot(path=str(ARTIFACTS / f"admin-org-site-{lang}-{device}.png"))
    picker = page.locator("#manager_person_id")
    total = picker.locator("option").count()
    assert total >= 1
    if total > 2:
        first_name = picker.locator("option").nth(1).inner_text().split(" ")[0]
        page.fill("#manager_q", first_name)
        expect(picker.locator("option")).not_to_have_count(total)
    ctx.close()
