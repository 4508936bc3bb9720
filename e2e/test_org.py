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


def test_an_archived_site_is_not_offered_for_an_ad_hoc_visit_on_the_phone(browser, server):
    from e2e.conftest import PHONE
    from e2e.phone import open_app, sync_now

    admin_ctx, admin = signed_in(browser, server, "admin", "admin-demo-2026", "zh-CN", DESKTOP_1366)
    phone_ctx = browser.new_context(locale="zh-CN", **PHONE)
    phone = phone_ctx.new_page()
    open_app(phone, server)
    options = phone.locator("details.m-card select option")
    expect(options.filter(has_text="财务共享中心")).to_have_count(1)

    admin.goto(server + "/admin/org/sites?q=FIN-SSC")
    admin.get_by_role("link", name="财务共享中心").click()
    admin.get_by_role("button", name="归档场所").click()
    expect(admin.get_by_role("button", name="恢复场所")).to_be_visible()
    try:
        sync_now(phone)
        phone.reload()
        phone.wait_for_selector("body[data-ready]")
        expect(phone.locator("details.m-card select option").filter(has_text="财务共享中心")).to_have_count(0)
        assert phone.locator("details.m-card select option").count() > 1  # the other sites are still offered
    finally:
        admin.get_by_role("button", name="恢复场所").click()
        expect(admin.get_by_role("button", name="归档场所")).to_be_visible()
        admin_ctx.close()
        phone_ctx.close()
