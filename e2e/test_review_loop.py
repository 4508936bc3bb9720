"""The whole loop in a browser, in both languages: a synced finding is assigned to a department,
its visit's report is written, approved and communicated, the department head (on a phone) submits
a plan and a progress photo, acceptance fails once, then passes: the finding closes after two rounds."""

import io
from datetime import date, timedelta

import pytest
from PIL import Image

from e2e.conftest import DESKTOP, PHONE, signed_in
from webapp.demo.seed import DEMO_USERS

PASSWORDS = {u["username"]: u["password"] for u in DEMO_USERS}
WORDS = {
    "zh-CN": {"assign": "指派给所选问题", "dept": "客户服务部", "write": "撰写报告", "save": "保存",
              "submit": "提交审批", "approve": "批准", "communicate": "反馈给被督导部门", "plan": "提交整改方案",
              "progress": "记录进度", "for_acceptance": "提交验收", "decide": "记录验收结论", "closed": "已关闭",
              "round2": "第 2 轮", "approved": "已批准"},
    "en": {"assign": "Assign to selected", "dept": "Customer Service", "write": "Write report", "save": "Save",
           "submit": "Submit for approval", "approve": "Approve", "communicate": "Communicate to the department",
           "plan": "Submit plan", "progress": "Record progress", "for_acceptance": "Submit for acceptance",
           "decide": "Record decision", "closed": "Closed", "round2": "Round 2", "approved": "Approved"},
}
# One visit per language, so both runs work on the same seeded server.
CASES = {"zh-CN": ("supervisor", "南京路门店", "消防通道堆放货物"),
         "en": ("supervisor2", "Pudong Warehouse", "拣货单据重复打印")}


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 140, 90)).save(buf, "PNG")
    return buf.getvalue()


def _user(browser, server, username, lang, device=DESKTOP):
    return signed_in(browser, server, username, PASSWORDS[username], lang, device)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_finding_to_closed_in_two_rounds(browser, server, shot, lang):
    w = WORDS[lang]
    sup_name, site, title = CASES[lang]
    tag = lang.split("-")[0]
    sup_ctx, sup = _user(browser, server, sup_name, lang)

    # 1. Review the synced finding: search, open the detail pane, assign it to the department.
    sup.goto(f"{server}/findings/?q={title}")
    sup.locator("a.finding-link", has_text=title).click()
    sup.locator("#detail-pane h1", has_text=title).wait_for()
    shot(sup, f"review-findings-pane-{tag}")
    sup.locator('input[name="ids"]').first.check()
    sup.select_option("#b-dept", label=w["dept"])
    sup.get_by_role("button", name=w["assign"]).click()
    sup.wait_for_load_state()

    # 2. The report: prefilled from the visit, edited, submitted.
    sup.goto(f"{server}/reports/")
    sup.locator("form", has_text=site).get_by_role("button", name=w["write"]).click()
    sup.wait_for_url("**/reports/*")
    report_url = sup.url
    assert title in sup.locator(".report-body").inner_text()
    sup.fill("#r-recommendations", "清理通道,建立每日巡查" if tag == "zh" else "Clear the aisle; daily checks")
    sup.get_by_role("button", name=w["save"], exact=True).click()
    sup.get_by_role("button", name=w["submit"]).click()
    sup.wait_for_load_state()

    # 3. The manager sees it under the bell and approves.
    mgr_ctx, mgr = _user(browser, server, "manager", lang)
    assert int(mgr.locator(".bell-count").inner_text()) >= 1
    mgr.goto(report_url)
    mgr.get_by_role("button", name=w["approve"]).click()
    mgr.wait_for_load_state()
    assert mgr.locator("#report-status").inner_text() == w["approved"]
    shot(mgr, f"review-report-approved-{tag}")
    mgr_ctx.close()

    # 4. Communicated to the department; the PDF downloads.
    sup.goto(report_url)
    sup.get_by_role("button", name=w["communicate"]).click()
    sup.wait_for_load_state()
    pdf = sup.request.get(report_url + "/report.pdf")
    assert pdf.ok and pdf.body()[:4] == b"%PDF"

    # 5. The department head, on a phone: from the notification to the plan and a progress photo.
    head_ctx, head = _user(browser, server, "depthead", lang, PHONE)
    head.goto(f"{server}/notifications/")
    head.locator("li", has_text=title).first.get_by_role("button").click()
    head.wait_for_url("**/rectification/*")
    rect_url = head.url
    head.fill("#measures", "清理通道并张贴禁止堆放标识")
    head.fill("#owner", "赵磊")
    head.fill("#deadline", (date.today() + timedelta(days=7)).isoformat())
    head.get_by_role("button", name=w["plan"]).click()
    head.wait_for_load_state()
    head.fill("#progress", "100")
    head.fill("#note", "已清理完毕" if tag == "zh" else "Cleared")
    head.set_input_files("#photos", files=[{"name": "after.png", "mimeType": "image/png", "buffer": _png()}])
    head.get_by_role("button", name=w["progress"]).click()
    head.wait_for_load_state()
    assert head.locator(".timeline img").count() == 1
    head.get_by_role("button", name=w["for_acceptance"]).click()
    head.wait_for_load_state()
    shot(head, f"review-rectification-submitted-phone-{tag}")

    # 6. Acceptance fails once, with a reason and a new deadline.
    sup.goto(rect_url)
    sup.check('input[name="result"][value="fail"]')
    sup.fill("#reason", "标识未张贴" if tag == "zh" else "No sign posted")
    sup.fill("#new_deadline", (date.today() + timedelta(days=3)).isoformat())
    sup.get_by_role("button", name=w["decide"]).click()
    sup.wait_for_load_state()
    assert sup.locator("#round").inner_text() == w["round2"]

    # 7. The department resubmits; acceptance passes; the finding is closed after two rounds.
    head.goto(rect_url)
    head.get_by_role("button", name=w["for_acceptance"]).click()
    head.wait_for_load_state()
    sup.goto(rect_url)
    sup.check('input[name="result"][value="pass"]')
    sup.get_by_role("button", name=w["decide"]).click()
    sup.wait_for_load_state()
    assert sup.locator("#finding-status").inner_text() == w["closed"]
    assert sup.locator("#round").inner_text() == w["round2"]
    assert sup.locator("#rounds li").count() == 2
    shot(sup, f"review-rectification-closed-{tag}")
    head_ctx.close()
    sup_ctx.close()
