"""Summary evaluation and the policy log in a browser: the comparison charts are drawn from their
tables, a count drills down to the findings list, an evaluation becomes a policy suggestion that a
manager moves through review. Screenshots on a desktop and a phone."""

import pytest

from e2e.conftest import DESKTOP, PHONE, signed_in
from webapp.demo.seed import demo_id

SUPERVISOR = ("supervisor", "supervisor-demo-2026")
MANAGER = ("manager", "manager-demo-2026")
TEXT = {
    "zh-CN": {"turn": "转为制度优化建议", "save": "保存建议", "review": "开始评审", "under_review": "评审中",
              "findings": "问题"},
    "en": {"turn": "Turn into a policy suggestion", "save": "Save suggestion", "review": "Start review",
           "under_review": "Under review", "findings": "Findings"},
}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_visit_evaluation_drills_down_and_becomes_a_policy_suggestion(browser, server, shot, lang):
    words = TEXT[lang]
    visit_url = f"{server}/results/evaluation/visits/{demo_id('visit:v1')}"
    ctx, page = signed_in(browser, server, *SUPERVISOR, lang, PHONE)
    page.goto(visit_url)
    page.wait_for_selector("figure.chart canvas[data-drawn]")
    shot(page, f"evaluation-visit-phone-{lang}")
    page.click(f"text={words['turn']}")
    page.wait_for_url("**/results/policy/new**")
    assert page.input_value("#body")  # pre-filled from the evaluation's suggestions
    shot(page, f"policy-new-phone-{lang}")
    page.click(f"button:has-text('{words['save']}')")
    page.wait_for_url("**/results/policy/*")
    ctx.close()

    ctx, page = signed_in(browser, server, *MANAGER, lang, DESKTOP)
    page.goto(visit_url)
    page.wait_for_selector("figure.chart canvas[data-drawn]")
    shot(page, f"evaluation-visit-desktop-{lang}")
    page.locator("table.cmp-table tbody tr.total td a").last.click()  # this visit's problem count
    page.wait_for_url("**/findings/?*site_id=*")
    assert page.locator(".finding-row, table tbody tr, .rowlist li").count() >= 1
    page.goto(f"{server}/results/evaluation/plans/{demo_id('plan:quarter')}")
    page.wait_for_selector("figure.chart canvas[data-drawn]")
    shot(page, f"evaluation-plan-desktop-{lang}")
    page.goto(f"{server}/results/policy/")
    shot(page, f"policy-log-desktop-{lang}")
    page.locator("table tbody tr a").first.click()
    page.wait_for_url("**/results/policy/*")
    if page.locator(f"button:has-text('{words['review']}')").count():
        page.click(f"button:has-text('{words['review']}')")
        page.wait_for_load_state()
        assert words["under_review"] in page.content()
    shot(page, f"policy-detail-desktop-{lang}")
    ctx.close()


def test_plan_evaluation_and_policy_log_on_a_phone(browser, server, shot):
    ctx, page = signed_in(browser, server, *MANAGER, "zh-CN", PHONE)
    page.goto(f"{server}/results/evaluation/plans/{demo_id('plan:quarter')}")
    page.wait_for_selector("figure.chart canvas[data-drawn]")
    shot(page, "evaluation-plan-phone-zh-CN")
    page.goto(f"{server}/results/policy/")
    shot(page, "policy-log-phone-zh-CN")
    ctx.close()
