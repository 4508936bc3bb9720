"""Two phones change the same finding offline; management resolves the conflict; both phones follow."""

from playwright.sync_api import expect

from e2e.conftest import DESKTOP, PHONE, login
from e2e.phone import open_app, snap, sync_now, wait_synced

SEEDED = "门店与仓库补货沟通不畅"


def _open_finding(page, server, finding_id=None):
    if finding_id:
        page.goto(f"{server}/m/finding/{finding_id}")
        page.wait_for_selector("body[data-ready]")
        return finding_id
    page.locator(".m-row").first.click()  # the in-progress visit sorts first
    page.locator(".m-tab").nth(5).click()
    page.get_by_role("link", name=SEEDED).click()
    page.wait_for_url("**/m/finding/**")
    return page.url.rsplit("/", 1)[1]


def test_two_phones_conflict_and_management_resolves(browser, server, shot):
    phone_a = browser.new_context(locale="zh-CN", **PHONE)
    phone_b = browser.new_context(locale="en", **PHONE)
    a, b = phone_a.new_page(), phone_b.new_page()
    open_app(a, server)
    open_app(b, server)
    snap(shot, b, "phone-01-visits-en")
    b.locator(".m-row").first.click()
    b.get_by_text("Process completeness").wait_for()
    snap(shot, b, "phone-02-checklist-en")
    b.get_by_role("link", name="Complete").click()
    snap(shot, b, "phone-07-score-by-area-en")
    fid = _open_finding(a, server)
    _open_finding(b, server, fid)

    phone_a.set_offline(True)
    phone_b.set_offline(True)
    a.get_by_label("责任人").select_option("吴敏")
    b.get_by_label("Responsible person").select_option("郑浩")
    b.get_by_label("Impact").fill("Lost sales for three days")
    b.get_by_label("Impact").blur()
    expect(b.locator(".sync-pending")).to_be_visible()

    phone_a.set_offline(False)
    wait_synced(a)
    phone_b.set_offline(False)
    wait_synced(b)
    # B's responsible person lost to A's: the server kept A's value and holds B's as a conflict.
    expect(b.locator(".m-state-conflict")).to_be_visible()
    expect(b.locator(".m-conflicts")).to_contain_text("郑浩")
    expect(b.get_by_label("Responsible person")).to_have_value("吴敏")
    expect(b.get_by_label("Impact")).to_have_value("Lost sales for three days")  # merged, not a conflict
    snap(shot, b, "phone-conflict-shown-en")

    desk = browser.new_context(locale="zh-CN", **DESKTOP)
    m = desk.new_page()
    login(m, server, "manager", "manager-demo-2026")
    # The manager's conflicts desk shows both values; the manager takes the device's.
    m.goto(server + "/conflicts/")
    cid = m.evaluate("""async (fid) => (await (await fetch('/api/v1/conflicts?record_id=' + fid)).json())
        .conflicts.find(c => c.field === 'responsible_person' && c.status === 'open').id""", fid)
    card = m.locator(f"#conflict-{cid}")
    expect(card).to_contain_text("郑浩")
    expect(card).to_contain_text("吴敏")
    snap(shot, m, "manager-conflicts-page")
    # The manager chooses between the labelled values, then resolves.
    card.get_by_label("采用设备的值").check()
    card.get_by_role("button", name="解决冲突").click()
    expect(m.locator(f"#conflict-{cid} .badge.conflict")).to_have_count(0)
    snap(shot, m, "manager-conflict-resolved")
    still_open = m.evaluate("""async (fid) => (await (await fetch('/api/v1/conflicts?record_id=' + fid)).json())
        .conflicts.length""", fid)
    assert still_open == 0
    desk.close()

    for page, label in ((a, "责任人"), (b, "Responsible person")):
        sync_now(page)
        expect(page.get_by_label(label)).to_have_value("郑浩")
        expect(page.locator(".m-state-conflict")).to_have_count(0)
    snap(shot, a, "phone-conflict-resolved-zh")
    snap(shot, b, "phone-conflict-resolved-en")
    phone_a.close()
    phone_b.close()
