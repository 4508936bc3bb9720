"""The planning cycle in a browser: a supervisor drafts, a manager returns it with a comment, it is
fixed, approved and published, and the visit appears in the supervisor's list on a phone."""

import re
from datetime import date, timedelta

import pytest

from e2e.conftest import DESKTOP, PHONE, serve, signed_in

SUPERVISOR = ("supervisor", "supervisor-demo-2026")
MANAGER = ("manager", "manager-demo-2026")
ADMIN = ("admin", "admin-demo-2026")
TEXT = {
    "zh-CN": {"returned": "管理层退回：需要修改的内容", "published": "已发布", "lang_button": "简体中文"},
    "en": {"returned": "Returned by management: what to change", "published": "Published", "lang_button": "English"},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of its own: these tests publish plans and revise the default template, which other
    modules' tests should not see."""
    with serve(tmp_path_factory.mktemp("plans-instance")) as base:
        yield base


def _window():
    today = date.today()
    q_end = date(today.year + (today.month > 9), (((today.month - 1) // 3 + 1) * 3) % 12 + 1, 1) - timedelta(days=1)
    return today, min(today + timedelta(days=2), q_end)


def _session(browser, server, who, lang, device=DESKTOP):
    return signed_in(browser, server, *who, lang, device)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_planning_cycle_reaches_the_phone(browser, server, shot, lang):
    words = TEXT[lang]
    title = f"E2E {lang} 季度督导计划"
    start, end = _window()

    # 1. The supervisor drafts a quarterly plan under the published annual plan, with one visit.
    sup_ctx, sup = _session(browser, server, SUPERVISOR, lang)
    sup.goto(server + "/plans/")
    sup.locator("a.btn-primary[href$='/plans/new']").click()
    sup.fill("#title", title)
    sup.select_option("#period_type", "quarterly")
    sup.fill("#year", str(start.year))
    sup.select_option("#quarter", str((start.month - 1) // 3 + 1))
    sup.locator("#parent_id option", has_text="年度").first.wait_for(state="attached")
    annual = sup.locator("#parent_id option", has_text="年度运营督导计划").first.get_attribute("value")
    sup.select_option("#parent_id", annual)
    sup.fill("#goals", "客服中心服务质量专项检查")
    sup.check("input[name=focus_areas][value=service]")
    sup.check("input[name=focus_areas][value=risk]")
    shot(sup, f"plans-form-desktop-{lang}")
    sup.locator("form.plan-form button[type=submit].btn-primary").click()
    sup.wait_for_url("**/plans/*")
    plan_url = sup.url

    sup.locator("#schedule details.add-row > summary").click()
    form = sup.locator("#schedule .schedule-form")
    form.locator("#new-site_id").select_option(label="静安客服中心" if lang == "zh-CN" else "Jing'an Service Centre")
    form.locator("#new-window_start").fill(start.isoformat())
    form.locator("#new-window_end").fill(end.isoformat())
    form.get_by_label("张伟").check()
    form.locator("button[type=submit]").click()
    sup.locator("#schedule .schedule-row").first.wait_for()  # htmx swapped the schedule in place
    assert sup.locator("#schedule .schedule-row").count() == 1
    sup.locator("button[name=to][value=submitted]").click()
    sup.wait_for_url(plan_url)
    shot(sup, f"plans-submitted-desktop-{lang}")

    # 2. The manager returns it with a comment.
    mgr_ctx, mgr = _session(browser, server, MANAGER, lang)
    mgr.goto(plan_url)
    mgr.locator("button[name=to][value=returned]").click()  # without a comment: a clear error
    assert mgr.locator("#comment-error").is_visible()
    mgr.fill("#comment", "请补充风险管理的检查重点和人员分工")
    mgr.locator("button[name=to][value=returned]").click()
    mgr.wait_for_url(plan_url)
    assert mgr.get_by_text(words["returned"]).is_visible()

    # 3. The supervisor sees what to change, fixes it and submits again.
    sup.goto(plan_url)
    assert sup.get_by_text("请补充风险管理的检查重点和人员分工").first.is_visible()
    shot(sup, f"plans-returned-desktop-{lang}")
    sup.locator("a[href$='/edit']").first.click()
    sup.fill("#staffing", "张伟负责现场检查,李娜负责数据分析")
    sup.locator("form.plan-form button[type=submit].btn-primary").click()
    sup.wait_for_url(plan_url)
    sup.locator("button[name=to][value=submitted]").click()
    sup.wait_for_url(plan_url)
    assert sup.locator("button[name=to][value=approved]").count() == 0  # a supervisor cannot approve

    # 4. The manager approves and publishes.
    mgr.goto(plan_url)
    mgr.locator("button[name=to][value=approved]").click()
    mgr.wait_for_url(plan_url)
    mgr.locator("button[name=to][value=published]").click()
    mgr.wait_for_url(plan_url)
    assert mgr.locator("h1 .badge", has_text=words["published"]).is_visible()
    visit_href = mgr.locator("#schedule a[href*='/visits/']").first.get_attribute("href")
    shot(mgr, f"plans-published-desktop-{lang}")
    mgr.goto(server + "/plans/")
    shot(mgr, f"plans-index-manager-desktop-{lang}")
    mgr_ctx.close()
    sup_ctx.close()

    # 5. The visit is in the supervisor's list on the phone.
    phone_ctx, phone = _session(browser, server, SUPERVISOR, lang, PHONE)
    phone.goto(server + "/visits/")
    link = phone.locator(f"a[href='{visit_href}']")
    assert link.is_visible()
    shot(phone, f"plans-visit-on-phone-{lang}")
    phone.goto(plan_url)
    shot(phone, f"plans-detail-phone-{lang}")
    phone_ctx.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_calendar_month_on_desktop_and_week_on_phone(browser, server, shot, lang):
    ctx, page = _session(browser, server, MANAGER, lang)
    page.goto(server + "/plans/calendar")
    assert page.locator(".cal-month .cal-visit").count() > 0
    shot(page, f"plans-calendar-month-desktop-{lang}")
    sup_id = page.locator("#c-sup option").nth(1).get_attribute("value")
    page.select_option("#c-sup", sup_id)  # htmx refreshes the grid and the address
    page.wait_for_url(f"**supervisor={sup_id}**")
    ctx.close()

    ctx, page = _session(browser, server, SUPERVISOR, lang, PHONE)
    page.goto(server + "/plans/calendar?view=week")
    assert page.locator(".cal-week > li").count() == 7
    shot(page, f"plans-calendar-week-phone-{lang}")
    page.goto(server + "/plans/calendar")
    shot(page, f"plans-calendar-month-phone-{lang}")
    ctx.close()


def test_admin_edits_the_default_template(browser, server, shot):
    ctx, page = _session(browser, server, ADMIN, "zh-CN")
    page.goto(server + "/checklists/")
    page.get_by_role("link", name="运营督导标准检查表").click()
    shot(page, "checklists-detail-desktop-zh-CN")
    page.locator("a[href$='/edit']").click()
    page.locator("input[name='items-0-weight']").fill("2")
    page.locator("#add-item").click()
    page.locator("input[name='items-17-code']").wait_for()
    shot(page, "checklists-edit-desktop-zh-CN")
    page.locator("button[type=submit].btn-primary").click()
    page.wait_for_url(re.compile(r"/checklists/[0-9a-f-]+$"))
    # Visits use the default template, so the change became revision 2.
    assert page.locator("h1 .badge", has_text="v2").is_visible()
    shot(page, "checklists-revised-desktop-zh-CN")
    ctx.close()
