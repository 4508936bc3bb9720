"""Performance points in a browser: the ledger (desktop and phone, both languages), the rules, and an
appeal from the department head decided by a manager."""

import pytest

from e2e.conftest import DESKTOP, PHONE, serve, signed_in

MANAGER = ("manager", "manager-demo-2026")
ADMIN = ("admin", "admin-demo-2026")
HEAD = ("depthead", "depthead-demo-2026")


@pytest.fixture
def top_shot(shot):
    """Scroll back to the top first: a full-page shot of a scrolled phone page draws the sticky bar midway."""
    def take(page, name):
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, name)

    return take


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of its own: these tests appeal and decide entries."""
    with serve(tmp_path_factory.mktemp("points-instance")) as base:
        yield base


@pytest.mark.parametrize("lang, device, name", [("zh-CN", DESKTOP, "desktop"), ("en", PHONE, "phone")])
def test_ledger_and_rules(browser, server, top_shot, lang, device, name):
    ctx, page = signed_in(browser, server, *MANAGER, lang, device)
    page.goto(server + "/results/points/")
    assert page.locator(".points-entries tbody tr").count() > 1
    assert page.locator(".points-totals tbody tr").first.locator("td").first.inner_text().strip() == "1"
    top_shot(page, f"points-ledger-{name}-{lang}")
    # The department filter swaps the ledger in place (htmx) and keeps the URL shareable.
    options = page.locator("#pf-dept option")
    page.select_option("#pf-dept", options.nth(2).get_attribute("value"))
    page.wait_for_url("**department_id=*")
    assert page.locator(".points-totals tbody tr").count() == 1
    # Every entry links to its cause.
    href = page.locator(".points-entries tbody tr a[href*='/findings/']").first.get_attribute("href") \
        if page.locator(".points-entries tbody tr a[href*='/findings/']").count() else None
    if href:
        assert page.request.get(server + href).status == 200
    ctx.close()
    ctx, page = signed_in(browser, server, *ADMIN, lang, device)
    page.goto(server + "/results/points/rules/")
    assert page.locator("table tbody tr").count() >= 7
    top_shot(page, f"points-rules-{name}-{lang}")
    page.locator("a.btn-primary[href$='/rules/new']").click()
    page.fill("#code", "BAD CODE")
    page.fill("#points", "0")
    page.locator("form.card button[type=submit]").click()
    assert page.locator("#code-error").is_visible() and page.locator("#points-error").is_visible()
    top_shot(page, f"points-rule-form-errors-{name}-{lang}")
    ctx.close()


def test_appeal_by_head_decided_by_manager(browser, server, top_shot):
    head_ctx, head = signed_in(browser, server, *HEAD, "zh-CN", PHONE)
    head.goto(server + "/results/points/?status=active")
    head.locator(".points-entries tbody tr a[href*='/entries/']").first.click()
    head.wait_for_url("**/results/points/entries/*")
    entry_url = head.url
    head.fill("#reason", "E2E:当日系统故障导致排队,申请撤销扣分")
    top_shot(head, "points-appeal-form-phone-zh-CN")
    head.locator("form button[type=submit].btn-primary").click()
    head.wait_for_url(entry_url)
    assert head.locator(".badge.pts-appealed").first.is_visible()
    top_shot(head, "points-appeal-sent-phone-zh-CN")
    head_ctx.close()

    ctx, page = signed_in(browser, server, *MANAGER, "zh-CN", DESKTOP)
    page.goto(server + "/results/points/appeals/?status=pending")
    assert page.get_by_text("E2E:当日系统故障").count() == 1
    top_shot(page, "points-appeals-desktop-zh-CN")
    page.goto(entry_url)
    page.check("input[name=result][value=rejected]")
    page.fill("#decision_note", "经核实,排队问题与系统故障无关")
    top_shot(page, "points-appeal-decide-desktop-zh-CN")
    page.locator("form button[type=submit].btn-primary").click()
    page.wait_for_url(entry_url)
    assert page.locator(".badge.appeal-rejected").is_visible()
    assert page.locator("h1 .badge.pts-active").is_visible()
    ctx.close()
