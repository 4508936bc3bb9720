"""The decision dashboard in a browser: charts drawn from their tables, drill-down from a bar of
"findings by department" to the findings list filtered to that department and period, both
languages, and a phone viewport."""

import re
import uuid
from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import expect

from e2e.conftest import DESKTOP, PHONE, signed_in

DESKTOP_DASH = {**DESKTOP, "viewport": {"width": 1366, "height": 900}}


def _charts_drawn(page) -> None:
    # Locator waits, not wait_for_function: the CSP (script-src 'self') forbids the eval it polls with.
    page.locator("#dashboard canvas[data-drawn]").nth(4).wait_for(state="attached")


def _rows_in_list(page) -> int:
    """Every row of the findings list, following "Load more" until the end."""
    while page.locator("#load-more-row a").count():
        before = page.locator("#finding-rows a.finding-link").count()
        page.locator("#load-more-row a").click()
        page.locator("#finding-rows a.finding-link").nth(before).wait_for(state="attached")
    return page.locator("#finding-rows a.finding-link").count()


def test_manager_drills_down_from_a_department_bar(browser, server, shot):
    ctx, page = signed_in(browser, server, "manager", "manager-demo-2026", "zh-CN", DESKTOP_DASH)
    page.goto(server + "/results/")
    _charts_drawn(page)
    shot(page, "dashboard-manager-desktop-zh-CN")
    assert page.locator("#worse-table tbody tr").count() >= 1  # someone got worse in the demo history

    # The department with the most findings this period, read from the chart's own table.
    rows = page.locator("#chart-department tbody tr")
    counts = [int(rows.nth(i).locator("td[data-value]").nth(1).get_attribute("data-value")) for i in range(rows.count())]
    index = counts.index(max(counts))
    dept_id = rows.nth(index).get_attribute("data-department")
    # Click that department's "this period" bar (dataset 1) where Chart.js drew it.
    point = page.evaluate("""(i) => {
        const canvas = document.querySelector('#chart-department canvas');
        const bar = Chart.getChart(canvas).getDatasetMeta(1).data[i];
        const box = canvas.getBoundingClientRect();
        return {x: box.left + bar.x, y: box.top + (bar.y + bar.base) / 2};
    }""", index)
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url(re.compile(r"/findings/\?"))
    url = page.url
    assert f"department_id={dept_id}" in url and "date_from=" in url and "date_to=" in url
    assert page.locator("#f-dept").input_value() == dept_id
    assert _rows_in_list(page) == max(counts)
    shot(page, "dashboard-drilldown-findings-desktop-zh-CN")
    ctx.close()


def test_dashboard_in_english_and_on_a_phone(browser, server, shot):
    ctx, page = signed_in(browser, server, "manager", "manager-demo-2026", "en", DESKTOP_DASH)
    page.goto(server + "/results/")
    _charts_drawn(page)
    assert page.locator("h1").inner_text() == "Decision dashboard"
    assert "Which departments got worse" in page.content()
    shot(page, "dashboard-manager-desktop-en")
    # Another period through the selector (htmx swaps the dashboard and keeps the URL shareable).
    page.select_option("#d-period", index=1)
    page.click(".dash-filters button[type=submit]")
    page.wait_for_url(re.compile(r"period="))
    _charts_drawn(page)
    ctx.close()

    for lang, title in (("zh-CN", "决策支持"), ("en", "Decision dashboard")):
        ctx, page = signed_in(browser, server, "manager", "manager-demo-2026", lang, PHONE)
        page.goto(server + "/results/")
        _charts_drawn(page)
        assert page.locator("h1").inner_text() == title
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360 + 1, f"the page scrolls sideways on a phone ({width}px)"
        # Each before / this period / change table stays inside its card's padding (in English the
        # longer headers once pushed the "Change" column onto the card's edge).
        overflow = page.evaluate("""() => [...document.querySelectorAll('table.chart-data')].map((t) => {
          const card = t.closest('.card');
          const inner = card.getBoundingClientRect().right - parseFloat(getComputedStyle(card).paddingRight);
          return Math.round(t.getBoundingClientRect().right - inner);
        })""")
        assert overflow and max(overflow) <= 0, f"{lang}: tables wider than their card by {overflow} px"
        shot(page, f"dashboard-manager-phone-{lang}")
        ctx.close()


def test_the_figures_say_when_they_were_counted_and_update_themselves(browser, server, shot):
    """The dashboard serves figures counted ahead (docs/results.md, "Counted ahead"): after a write
    it says they are being counted again, the worker counts them, and the block updates itself."""
    ctx, page = signed_in(browser, server, "manager", "manager-demo-2026", "en", DESKTOP_DASH)
    page.goto(server + "/results/")
    fresh = page.locator("#dash-freshness")
    expect(fresh).to_contain_text("up to date", timeout=20_000)  # if behind, it updates within seconds

    # A supervisor's phone schedules a visit (the change feed moves: plan completion counts visits).
    api = browser.new_context()
    made = api.request.post(f"{server}/api/v1/auth/token",
                            data={"username": "supervisor", "password": "supervisor-demo-2026", "device_name": "e2e"})
    assert made.status == 201, made.text()
    bearer = {"Authorization": f"Bearer {made.json()['token']}"}
    changes = api.request.get(f"{server}/api/v1/sync/pull?limit=500", headers=bearer).json()["changes"]
    site = next(c["id"] for c in changes if c["entity"] == "site")
    template = next(c["id"] for c in changes if c["entity"] == "template")
    day = date.today() + timedelta(days=3)
    body = {"device_id": str(uuid.uuid4()), "mutations": [{
        "mutation_id": str(uuid.uuid4()), "entity": "visit", "id": str(uuid.uuid4()), "op": "upsert",
        "base_version": 0, "client_time": datetime.now(UTC).isoformat(),
        "data": {"site_id": site, "template_id": template, "status": "scheduled", "scheduled_for": day.isoformat(),
                 "due_by": day.isoformat()}}]}
    pushed = api.request.post(f"{server}/api/v1/sync/push", data=body, headers=bearer)
    assert pushed.status == 200 and pushed.json()["results"][0]["status"] == "applied", pushed.text()
    api.close()

    page.reload()
    expect(fresh).to_contain_text("Newer records are being counted")
    assert fresh.get_attribute("role") == "status"
    shot(page, "dashboard-behind-desktop-en")
    expect(fresh).to_contain_text("up to date", timeout=20_000)  # the worker counted; htmx swapped the block
    _charts_drawn(page)
    shot(page, "dashboard-updated-desktop-en")
    ctx.close()
