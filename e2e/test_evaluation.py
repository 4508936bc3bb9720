"""Summary evaluation and the policy log in a browser: the comparison charts are drawn from their
tables, a count drills down to the findings list, an evaluation becomes a policy suggestion that a
manager moves through review. Screenshots on a desktop and a phone."""

import uuid

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


def _page_overflows(page) -> bool:
    """Whether the page itself scrolls sideways (wide tables must scroll inside their own box)."""
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


def test_plan_evaluation_and_policy_log_on_a_phone(browser, server, shot):
    ctx, page = signed_in(browser, server, *MANAGER, "zh-CN", PHONE)
    page.goto(f"{server}/results/evaluation/plans/{demo_id('plan:quarter')}")
    page.wait_for_selector("figure.chart canvas[data-drawn]")
    heading = page.locator("h1").inner_text()
    assert heading.startswith("总结评估：") and heading.endswith("季度运营督导计划")
    # Every comparison is drawn: area scores, problems found, problems per site.
    page.wait_for_function("document.querySelectorAll('figure.chart canvas:not([data-drawn])').length === 0")
    assert page.locator("figure.chart").count() == 3
    assert page.locator("figure.chart figcaption").all_inner_texts()[:3] == ["各督导内容检查得分", "发现问题数",
                                                                          "各场所发现问题数"]
    sites = page.locator("table.cmp-wide tbody tr")
    assert sites.count() >= 1 and all(name.strip() for name in sites.locator("th").all_inner_texts())
    hrefs = sites.locator("td a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs and all(h.startswith("/findings/?") and "site_id=" in h for h in hrefs)
    assert not _page_overflows(page)
    shot(page, "evaluation-plan-phone-zh-CN")

    page.goto(f"{server}/results/policy/new")
    title = f"手机端提出的建议 {uuid.uuid4().hex[:6]}"
    page.fill("#title", title)
    page.fill("#body", "高峰期增加弹性排班")
    page.click("button:has-text('保存建议')")
    page.wait_for_url("**/results/policy/*")
    page.goto(f"{server}/results/policy/")
    assert page.locator("h1").inner_text() == "制度优化台账"
    row = page.locator("table.responsive tbody tr", has=page.get_by_role("link", name=title))
    assert row.count() == 1 and row.is_visible()
    assert row.locator("td[data-label='状态']").inner_text().strip() == "已提出"
    # On a phone the log is a list of cards: no header row, each value labelled.
    assert page.evaluate("document.querySelector('table.responsive thead').getBoundingClientRect().right <= 0")
    assert not _page_overflows(page)
    shot(page, "policy-log-phone-zh-CN")
    ctx.close()
