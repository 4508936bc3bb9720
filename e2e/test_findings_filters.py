"""The findings list's department and site filters in a browser: a site the administrator adds or
renames is offered at once on the manager's next list (each gunicorn worker keeps its own copy of
the sites, webapp/org/operations.live_choices), and the chosen site stays chosen — zh-CN on a
desktop, English on a phone."""

import secrets

import pytest
from playwright.sync_api import expect

from e2e.conftest import ARTIFACTS, DESKTOP, PHONE, signed_in

ADMIN, MANAGER = ("admin", "admin-demo-2026"), ("manager", "manager-demo-2026")


def _save_site(page, base, path, name, name_en, code=None):
    page.goto(base + path)
    if code:
        page.fill("#code", code)
        page.select_option("#department_id", index=1)
    page.fill("#name", name)
    page.fill("#name_en", name_en)
    page.locator("main form button.btn-primary[type=submit]").click()
    page.wait_for_url("**/admin/org/sites/*")
    return page.url.rstrip("/").rsplit("/", 1)[1]


def _offered(page, base, url, label, times=4):
    """Every worker offers it: the list is loaded a few times (the two workers take turns)."""
    for _ in range(times):
        page.goto(base + url)
        expect(page.locator("#f-site option", has_text=label)).to_have_count(1)


@pytest.mark.parametrize("lang, device", [("zh-CN", DESKTOP), ("en", PHONE)])
def test_a_new_or_renamed_site_is_offered_at_once_and_stays_chosen(browser, server, lang, device):
    tag = secrets.token_hex(3)
    admin_ctx, admin = signed_in(browser, server, *ADMIN, "zh-CN", DESKTOP)
    site = _save_site(admin, server, "/admin/org/sites/new", f"筛选测试店{tag}", f"Filter Test {tag}",
                      code=f"E2E-F{tag}")

    def shown(zh, en):
        return zh if lang == "zh-CN" else en

    ctx, page = signed_in(browser, server, *MANAGER, lang, device)
    _offered(page, server, "/findings/", shown(f"筛选测试店{tag}", f"Filter Test {tag}"))
    if page.locator("#filters-more").get_attribute("open") is None:  # folded away on a phone
        page.locator("#filters-more > summary").click()
    page.select_option("#f-site", site)
    page.locator("form.filters .actions button.btn-primary").click()
    page.wait_for_url(f"**/findings/?*site_id={site}*")
    expect(page.locator("#f-site")).to_have_value(site)
    expect(page.locator("#f-site option:checked")).to_have_text(shown(f"筛选测试店{tag}", f"Filter Test {tag}"))
    page.screenshot(path=str(ARTIFACTS / f"findings-site-filter-{lang}.png"), full_page=True)

    _save_site(admin, server, f"/admin/org/sites/{site}/edit", f"筛选测试新店{tag}", f"Renamed Test {tag}")
    _offered(page, server, f"/findings/?site_id={site}", shown(f"筛选测试新店{tag}", f"Renamed Test {tag}"))
    expect(page.locator("#f-site option:checked")).to_have_text(shown(f"筛选测试新店{tag}", f"Renamed Test {tag}"))
    expect(page.locator("#f-site option", has_text=shown(f"筛选测试店{tag}", f"Filter Test {tag}"))).to_have_count(0)
    ctx.close()
    admin_ctx.close()
