"""The evidence gallery in a real browser: thumbnails load (lazily made for the seeded photos),
keep their layout size, and open the display size."""

import pytest

from e2e.conftest import DESKTOP, PHONE, login


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_finding_gallery_shows_thumbnails_and_opens_display(browser, server, shot, device):
    ctx = browser.new_context(locale="zh-CN", **(PHONE if device == "phone" else DESKTOP))
    page = ctx.new_page()
    login(page, server, "supervisor", "supervisor-demo-2026")
    # A seeded finding (every one has a photo); other tests on this server add findings without photos.
    page.goto(server + "/findings/?q=退货流程缺少审批环节")
    page.locator("table a[href^='/findings/']").first.click()
    # On a desktop the row opens in the detail pane (htmx swap), on a phone as a page: wait for it.
    gallery = page.locator(".gallery").first
    gallery.wait_for(state="visible")
    img = gallery.locator("img").first
    img.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    assert img.get_attribute("alt") and img.get_attribute("loading") == "lazy"
    assert img.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [320, 240]
    box = img.bounding_box()
    assert box["width"] <= (360 if device == "phone" else 1366)
    shot(page, f"finding-gallery-{device}")
    with page.expect_response(lambda r: "variant=display" in r.url) as resp:
        gallery.locator("a").first.click()
    assert resp.value.status == 200 and resp.value.headers["content-type"] == "image/jpeg"
    ctx.close()
