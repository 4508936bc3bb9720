"""One rulebook on the phone: a change the server refuses is shown with its reason and can be undone.

A supervisor completes a visit offline while a manager, on the desk, gives the visit to another
supervisor. Back online, the phone shows the refusal in the user's language with a button to
discard the change; discarding it takes the visit off the phone, which it no longer owns.
"""

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from e2e.conftest import PHONE, signed_in
from e2e.phone import open_app, snap, sync_now, visit_id_from_url, wait_until


def test_a_refused_change_is_shown_and_can_be_undone(browser, server, shot):
    phone = browser.new_context(locale="zh-CN", **PHONE)
    page = phone.new_page()
    open_app(page, server)
    # A visit of its own (ad hoc), so the demo's visits stay as the other browser tests expect.
    for _ in range(5):  # the list re-renders when a background sync lands: open the form again
        form = page.locator("details.m-card")
        if form.get_attribute("open") is None:
            form.locator("summary").click()
        try:
            form.locator("select").select_option(label="徐汇门店", timeout=3000)
            form.get_by_role("button", name="开始", exact=True).click(timeout=3000)
            page.wait_for_url("**/m/visit/**", timeout=5000)
            break
        except PlaywrightError:
            continue
    visit_id = visit_id_from_url(page.url)
    sync_now(page)

    phone.set_offline(True)
    page.locator("nav.m-tabs").get_by_role("link", name="完成", exact=True).click()
    page.get_by_label("督导总结").fill("离线完成")
    page.get_by_role("button", name="完成督导").click()
    # Nothing answered: the template's rule asks why (docs/phone.md "A faster visit").
    page.get_by_label("为何在这些检查项未作答时完成督导？").fill("临时抽查，仅座谈")
    page.get_by_role("button", name="按此理由完成").click()

    # Meanwhile, on the desk: the manager reassigns the visit to 李娜.
    desk, mp = signed_in(browser, server, "manager", "manager-demo-2026", "zh-CN")  # another test may save "en"
    mp.goto(f"{server}/visits/{visit_id}")
    mp.get_by_label("改派给").select_option(label="李娜")
    mp.get_by_role("button", name="改派", exact=True).click()
    expect(mp.get_by_text("该巡查已改派给李娜。")).to_be_visible()
    snap(shot, mp, "rulebook-reassigned-desktop-zh")
    desk.close()

    # Signal again: the completion is refused, with the reason, and can be discarded.
    phone.set_offline(False)
    wait_until(page, "document.body.dataset.sync === 'done'", timeout=60000)
    page.goto(f"{server}/m/visit/{visit_id}/complete")
    page.wait_for_selector("body[data-ready]")
    alert = page.locator(".m-state-rejected [role=alert]")
    expect(alert).to_contain_text("记录不存在，或您无权修改")
    snap(shot, page, "rulebook-refused-phone-zh")
    page.once("dialog", lambda d: d.accept())
    page.locator(".m-state-rejected").get_by_role("button", name="放弃我的修改").click()
    page.goto(f"{server}/m/")
    page.wait_for_selector("body[data-ready]")
    wait_until(page, "document.getElementById('unsynced').dataset.n === '0'")
    expect(page.locator(f"a[href='/m/visit/{visit_id}']")).to_have_count(0)
    snap(shot, page, "rulebook-after-discard-phone-zh")
    phone.close()
