"""Supervisor management in a browser: a manager opens the supervisors' ranking and a scorecard and
reads its figures and formulas (the plan completion rate is checked against the database); a
department head rates a visit and the supervisor's satisfaction figure changes."""

import re
import sqlite3
from datetime import date, timedelta

import pytest

from e2e.conftest import DESKTOP, PHONE, serve, signed_in
from webapp.results.periods import parse_period

MANAGER = ("manager", "manager-demo-2026")
DEPTHEAD = ("depthead", "depthead-demo-2026")
DESKTOP_900 = {"viewport": {"width": 1366, "height": 900}}


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    """A server of its own (the test adds a rating), and its database file to check figures against."""
    inst = tmp_path_factory.mktemp("supervisors-instance")
    with serve(inst) as base:
        yield base, inst / "e2e.db"


def _planned_from_db(db_path, username, period_code):
    """Plan completion of `username` straight from the database: visits from a plan, scheduled in
    the period, not deleted; completed ones among them."""
    period = parse_period(period_code)
    last = (period.end - timedelta(days=1)).isoformat()
    with sqlite3.connect(db_path) as con:
        rows = con.execute(
            "SELECT v.status FROM visits v JOIN users u ON u.id = v.supervisor_id WHERE u.username = ? "
            "AND v.plan_id IS NOT NULL AND v.deleted_at IS NULL AND v.scheduled_for BETWEEN ? AND ?",
            (username, period.start.isoformat(), last)).fetchall()
    return sum(1 for (s,) in rows if s == "completed"), len(rows)


def _figure(page, key):
    row = page.locator(f"tr[data-figure='{key}']")
    return row.locator(".sup-value").inner_text().strip(), row.locator(".sup-formula").inner_text()


def _ratable_visit(page, base, db_path):
    """The latest completed visit by 张伟 (the scorecard opened below) in the department head's
    department, through the "rate this visit" link of its page."""
    with sqlite3.connect(db_path) as con:
        (visit_id,) = con.execute(
            "SELECT v.id FROM visits v JOIN users s ON s.id = v.supervisor_id, users h "
            "WHERE h.username = 'depthead' AND v.department_id = h.department_id AND s.username = 'supervisor' "
            "AND v.status = 'completed' AND v.deleted_at IS NULL ORDER BY v.scheduled_for DESC LIMIT 1").fetchone()
    page.goto(f"{base}/visits/{visit_id}")
    link = page.locator("a[href$='/rating']")
    assert link.count(), "the department head is offered to rate a completed visit of their department"
    return link.get_attribute("href")


def test_scorecard_figures_and_a_rating_that_changes_satisfaction(browser, instance, shot):
    base, db_path = instance
    head_ctx, head = signed_in(browser, base, *DEPTHEAD, "zh-CN", PHONE)
    rating_url = _ratable_visit(head, base, db_path)
    head.goto(base + rating_url)
    period = head.locator("dd[data-period]").get_attribute("data-period")
    checked = head.locator("input[name=score]:checked")
    before_score = int(checked.get_attribute("value")) if checked.count() else None
    shot(head, "supervisors-rating-phone-zh-CN")

    # The manager: the ranking, then 张伟's scorecard for the visit's period.
    mgr_ctx, mgr = signed_in(browser, base, *MANAGER, "zh-CN", DESKTOP_900)
    mgr.goto(f"{base}/results/supervisors/?period={period}")
    assert mgr.locator("#ranking tbody tr").count() >= 2
    shot(mgr, "supervisors-ranking-desktop-zh-CN")
    mgr.locator("#ranking a", has_text="张伟").click()
    mgr.wait_for_url(re.compile(r".*/results/supervisors/[0-9a-f-]+\?period=.*"))
    shot(mgr, "supervisors-scorecard-desktop-zh-CN")

    value, formula = _figure(mgr, "completion")
    done, planned = _planned_from_db(db_path, "supervisor", period)
    assert planned > 0
    assert formula.endswith(f"= {done} ÷ {planned}")
    assert value == f"{100 * done / planned:.1f}%"
    assert mgr.locator("#planned-visits tbody tr").count() == planned
    # Every figure shows its formula; the found problems link to the filtered findings list.
    assert mgr.locator("tr[data-figure] .sup-formula").count() == 8  # agreement with peers (calibration) included
    found_link = mgr.locator("tr[data-figure='found'] a").get_attribute("href")
    p = parse_period(period)
    assert f"date_from={p.start.isoformat()}" in found_link and "supervisor_id=" in found_link
    sat_before, sat_formula_before = _figure(mgr, "satisfaction")
    n_before = int(re.search(r"÷ (\d+)", sat_formula_before).group(1))

    # The department head rates the visit (a different score than before).
    new_score = 1 if before_score != 1 else 5
    head.goto(base + rating_url)
    head.locator(f"label.sup-score:has(input[value='{new_score}'])").click()
    head.fill("#teamwork_note", "E2E 团队协作:督导员与门店一起制定了整改计划")
    head.locator("form.sup-form button[type=submit]").click()
    head.wait_for_url(re.compile(r".*/visits/[0-9a-f-]+$"))
    assert head.locator(".flash").count() >= 1

    mgr.reload()
    sat_after, sat_formula_after = _figure(mgr, "satisfaction")
    n_after = int(re.search(r"÷ (\d+)", sat_formula_after).group(1))
    assert n_after == n_before + (0 if before_score is not None else 1)
    assert sat_after != sat_before
    assert "E2E 团队协作" in mgr.locator("#ratings").inner_text()
    shot(mgr, "supervisors-scorecard-after-rating-desktop-zh-CN")
    head_ctx.close()

    # The same scorecard on a phone and in English; the profile editor on the desktop.
    url = mgr.url
    phone_ctx, phone = signed_in(browser, base, *MANAGER, "en", PHONE)
    phone.goto(url)
    assert phone.locator("tr[data-figure='completion'] .sup-value").inner_text().strip() == value
    shot(phone, "supervisors-scorecard-phone-en")
    phone.goto(f"{base}/results/supervisors/?period={period}")
    shot(phone, "supervisors-ranking-phone-en")
    phone_ctx.close()
    mgr.locator("a[href$='/profile']").click()
    mgr.wait_for_url(re.compile(r".*/profile$"))
    shot(mgr, "supervisors-profile-form-desktop-zh-CN")
    mgr_ctx.close()


def test_supervisor_sees_own_scorecard(browser, instance, shot):
    base, _db = instance
    ctx, page = signed_in(browser, base, "supervisor", "supervisor-demo-2026", "zh-CN", PHONE)
    page.goto(base + "/results/supervisors/")
    assert "张伟" in page.locator("h1").inner_text()
    assert page.locator("a[href$='/profile']").count() == 0  # viewing only
    shot(page, "supervisors-own-scorecard-phone-zh-CN")
    ctx.close()


def test_period_switch_updates_the_scorecard_in_place(browser, instance):
    base, _db = instance
    ctx, page = signed_in(browser, base, *MANAGER, "en", DESKTOP)
    page.goto(base + "/results/supervisors/")
    page.locator("#ranking a").first.click()
    # The list has a period selector too: wait for the profile, or the select may land on the list
    # page while it is being replaced (seen under load: the URL never got the profile's period).
    page.locator("#scorecard").first.wait_for()
    previous = parse_period(f"{date.today().year}-Q{(date.today().month - 1) // 3 + 1}").previous()
    page.select_option("#period", previous.code)
    page.wait_for_url(re.compile(rf".*period={previous.code}$"))
    assert previous.label("en") in page.locator("#scorecard h2").first.inner_text()
    ctx.close()
