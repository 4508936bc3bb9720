"""Recurring visits and calibration in a browser (desktop 1366×800, zh-CN and en): a manager sets a
visit frequency by site class, previews each supervisor's load and generates a month's visits, reads
the missed visits (应巡未巡); schedules a blind double inspection and reads the agreement KPI."""

from datetime import date, timedelta

import pytest

from e2e.conftest import ARTIFACTS, serve, signed_in

MANAGER = ("manager", "manager-demo-2026")
ADMIN = ("admin", "admin-demo-2026")
DESK = {"viewport": {"width": 1366, "height": 800}}
TEXT = {
    "zh-CN": {"saved": "巡店频次已保存", "generated": "次督导", "missed": "应巡未巡", "scheduled": "校准复查已安排",
              "agreement": "同行一致率", "criteria": "待明确的检查标准", "yearly": "每年"},
    "en": {"saved": "The visit frequency was saved", "generated": "visits were generated", "missed": "Missed visits",
           "scheduled": "The calibration inspection was scheduled", "agreement": "Agreement with peers",
           "criteria": "Criteria to clarify", "yearly": "Yearly"},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of its own: these tests generate visits and schedule inspections."""
    with serve(tmp_path_factory.mktemp("recurring-instance")) as base:
        yield base


def view_shot(page, locator, name):
    """The viewport around `locator` (a full-page shot repeats the fixed top bar mid-page)."""
    locator.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.evaluate("window.scrollBy(0, -72)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _console_errors(page) -> list:
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.mark.parametrize(("lang", "month_index"), [("zh-CN", 1), ("en", 2)])
def test_recurring_visits(browser, server, shot, lang, month_index):
    words = TEXT[lang]
    ctx, page = signed_in(browser, server, *MANAGER, lang, DESK)
    errors = _console_errors(page)
    page.goto(server + "/plans/recurring/")
    # The demo's company rules: A monthly, B quarterly, C half-yearly. Make class C yearly.
    page.select_option("#r-class", "C")
    page.select_option("#r-interval", "12")
    page.locator("form[action$='/plans/recurring/rules'] button[type=submit]").click()
    page.wait_for_load_state()
    assert words["saved"] in page.locator(".flash").first.inner_text()
    assert words["yearly"] in page.locator("tr[data-rule=C]").inner_text()
    shot(page, f"h19-plans-recurring-rules-desktop-{lang}")

    # Preview the load of a coming month, then generate.
    page.select_option("#g-month", index=month_index)
    page.locator("form[action$='/plans/recurring/preview'] button[type=submit]").click()
    page.locator("#generation table.rec-load").wait_for()
    totals = [int(t) for t in page.locator("#generation .rec-total").all_inner_texts()]
    assert len(totals) == 2 and sum(totals) > 0
    view_shot(page, page.locator("#gen-h"), f"h19-plans-recurring-preview-desktop-{lang}")
    page.locator("#generation form[action$='/plans/recurring/generate'] button").click()
    page.wait_for_url("**/plans/calendar**")
    assert words["generated"] in page.locator(".flash").first.inner_text()
    shot(page, f"h19-plans-recurring-generated-calendar-desktop-{lang}")

    # Generating the same month again creates nothing.
    page.goto(server + "/plans/recurring/")
    page.select_option("#g-month", index=month_index)
    page.locator("form[action$='/plans/recurring/preview'] button[type=submit]").click()
    page.locator("#generation .empty").wait_for()

    # The demo visits every site every 17–24 days, so nothing of the past is missed; a class A store
    # recorded today is due this month and has no visit yet.
    code = f"E2E-{lang}"
    admin_ctx, admin = signed_in(browser, server, *ADMIN, lang, DESK)
    admin.goto(server + "/admin/org/sites/new")
    admin.fill("#code", code)
    admin.fill("#site_class", "A")
    admin.fill("#name", f"测试新门店 {lang}")
    admin.select_option("#department_id", index=1)
    admin.locator("form.org-form button[type=submit]").first.click()
    admin.wait_for_load_state()
    admin_ctx.close()
    page.goto(server + "/plans/recurring/missed")
    assert words["missed"] in page.locator("h1").inner_text()
    this_month = date.today().strftime("%Y-%m")
    with page.expect_response(lambda r: "/plans/recurring/missed" in r.url and this_month in r.url):
        page.select_option("#m-period", this_month)
    page.locator(f"table.rec-missed tbody tr[data-site='{code}']").wait_for()
    shot(page, f"h19-plans-missed-desktop-{lang}")
    with page.expect_download() as dl:
        page.locator("a[href*='missed.xlsx']").click()
    assert dl.value.suggested_filename.startswith("missed-visits-")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert errors == []
    ctx.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_calibration_and_the_kpi(browser, server, shot, lang):
    words = TEXT[lang]
    ctx, page = signed_in(browser, server, *MANAGER, lang, DESK)
    errors = _console_errors(page)
    page.goto(server + "/results/calibration/")
    first = page.locator("#c-visit option", has_text="张伟").nth(0 if lang == "zh-CN" else 1)
    page.select_option("#c-visit", first.get_attribute("value"))
    page.select_option("#c-sup", label="李娜")
    page.fill("#c-sample", "4")
    page.locator("form.cal-form button[type=submit]").click()
    page.wait_for_load_state()
    assert words["scheduled"] in page.locator(".flash").first.inner_text()
    assert page.locator("table.cal-pairs tbody tr[data-pair]").count() >= 2  # the demo's pair and this one
    shot(page, f"h19-plans-calibration-desktop-{lang}")

    # The demo pair (李娜 after 张伟 at 南京路门店, 4 of 6 items alike) on 李娜's scorecard.
    done = date.today() - timedelta(days=20)
    period = f"{done.year}-Q{(done.month - 1) // 3 + 1}"
    page.goto(server + f"/results/supervisors/?period={period}")
    page.locator("a", has_text="李娜").first.click()
    page.wait_for_load_state()
    if f"period={period}" not in page.url:
        page.goto(page.url.split("?")[0] + f"?period={period}")
    row = page.locator("tr[data-figure=agreement]")
    assert words["agreement"] in row.inner_text() and "66.7%" in row.inner_text()
    view_shot(page, page.locator("#scorecard-h"), f"h19-plans-scorecard-agreement-desktop-{lang}")

    page.goto(server + f"/results/?period={period}")
    section = page.locator("section[aria-labelledby=h-calibration]")
    assert words["criteria"] in section.inner_text() and section.locator("table.cal-lowest tbody tr").count() >= 1
    view_shot(page, section, f"h19-plans-dashboard-criteria-desktop-{lang}")
    assert errors == []
    ctx.close()
