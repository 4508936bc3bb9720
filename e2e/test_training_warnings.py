"""Training and early warnings in a browser: a manager finds the demo's handful of grouped warnings,
acknowledges one and snoozes one with a reason (htmx), turns a training need into a training plan and
reads a person's development page; desktop and phone, both languages."""

import pytest

from e2e.conftest import PHONE, serve, signed_in

WIDE = {"viewport": {"width": 1366, "height": 800}}  # the desktop size for the warnings screenshots
PHONE_390 = {**PHONE, "viewport": {"width": 390, "height": 844}}

MANAGER = ("manager", "manager-demo-2026")
DEPTHEAD = ("depthead", "depthead-demo-2026")
TEXT = {
    "zh-CN": {"ack": "确认收到", "acked": "预警已确认。", "create": "创建培训计划", "save": "保存培训计划",
              "saved": "培训计划已保存。", "snooze": "暂缓…", "reason": "原因（必填）", "do_snooze": "暂缓",
              "snoozed": "预警已暂缓至", "required": "请说明暂缓的原因。", "days": "14 天"},
    "en": {"ack": "Acknowledge", "acked": "The warning was acknowledged.", "create": "Create a training plan",
           "save": "Save training plan", "saved": "The training plan was saved.", "snooze": "Snooze…",
           "reason": "Reason (required)", "do_snooze": "Snooze", "snoozed": "The warning is snoozed until",
           "required": "Say why the warning is snoozed.", "days": "14 days"},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("training-instance")) as base:
        yield base


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_manager_handles_warnings_and_plans_training(browser, server, shot, lang):
    words = TEXT[lang]
    ctx, page = signed_in(browser, server, *MANAGER, lang, WIDE)
    page.goto(server + "/results/warnings/")
    # the demo's handful, grouped: one card per site × problem, never two alike
    cards = page.locator(".warning")
    assert 3 <= cards.count() <= 10, cards.count()
    subjects = [f"{c.get_attribute('class')} {c.locator('.warning-subject').inner_text()}" for c in cards.all()]
    assert len(subjects) == len(set(subjects))
    assert page.locator(".warning .occurrences").count() == cards.count()
    assert page.locator(".sidebar a[href*=\"warnings\"] .nav-count").count() == 1
    shot(page, f"h19-warnings-desktop-{lang}")
    first = page.locator(".warning").first
    text = first.locator(".warning-text").inner_text()
    first.get_by_role("button", name=words["ack"]).click()
    page.wait_for_selector(f".flash:has-text('{words['acked']}')")
    assert page.url.endswith("/results/warnings/")  # htmx swapped the list in place
    page.goto(server + "/results/warnings/?status=acknowledged")
    assert text in page.locator(".warning-list").inner_text()
    shot(page, f"warnings-acknowledged-desktop-{lang}")

    # snooze the first open warning: a reason is required, then it moves to the snoozed tab
    page.goto(server + "/results/warnings/")
    before = page.locator(".warning").count()
    card = page.locator(".warning").first
    subject = card.locator(".warning-subject").inner_text()
    card.locator("summary", has_text=words["snooze"]).click()
    card.get_by_label(words["days"]).check()
    card.get_by_role("button", name=words["do_snooze"], exact=True).click()
    page.wait_for_selector(f".error:has-text('{words['required']}')")  # no reason: refused, said why
    card = page.locator(".warning").first
    card.get_by_label(words["reason"]).fill("门店已安排整改，两周后复查")
    card.get_by_role("button", name=words["do_snooze"], exact=True).click()
    page.wait_for_selector(f".flash:has-text('{words['snoozed']}')")
    assert page.locator(".warning").count() == before - 1
    page.goto(server + "/results/warnings/?status=snoozed")
    snoozed = page.locator(".warning-list").inner_text()
    assert subject in snoozed and "门店已安排整改，两周后复查" in snoozed
    shot(page, f"warnings-snoozed-desktop-{lang}")
    page.goto(server + "/results/warnings/rules")
    shot(page, f"warning-rules-manager-desktop-{lang}")

    page.goto(server + "/results/training/needs?min_departments=1")
    assert page.locator("#needs tbody tr").count() >= 1
    shot(page, f"training-needs-desktop-{lang}")
    page.locator("#needs tbody tr").first.get_by_role("link", name=words["create"]).click()
    assert page.locator("#topic").input_value() != ""
    page.fill("#trainer", "吴敏")
    page.get_by_role("button", name=words["save"]).click()
    page.wait_for_selector(f".flash:has-text('{words['saved']}')")
    shot(page, f"training-plan-desktop-{lang}")
    page.goto(server + "/results/training/")
    shot(page, f"training-plans-desktop-{lang}")
    page.goto(server + "/results/training/people/")
    page.locator("table a", has_text="赵磊").first.click()
    assert page.locator("#note").input_value() != ""
    shot(page, f"training-person-desktop-{lang}")
    ctx.close()

    ctx, page = signed_in(browser, server, *MANAGER, lang, PHONE_390)
    page.goto(server + "/results/warnings/")
    shot(page, f"h19-warnings-phone-{lang}")
    page.goto(server + "/results/training/needs?min_departments=1")
    shot(page, f"training-needs-phone-{lang}")
    ctx.close()


def test_dept_head_reads_own_people(browser, server, shot):
    ctx, page = signed_in(browser, server, *DEPTHEAD, "zh-CN", PHONE)
    page.goto(server + "/results/training/people/")
    page.locator("table a", has_text="赵磊").first.click()
    assert page.locator("#note").count() == 0  # read only
    shot(page, "training-person-depthead-phone-zh-CN")
    assert page.goto(server + "/results/warnings/").status == 403
    ctx.close()
