"""A faster visit on a 390×844 phone, offline (issue #18): the visit list grouped with a search, a
loading state instead of "no visits" during the first sync, sync badges and the progress line that
follow every answer at once, completion with unanswered items only with a reason (shown on the
desk), a photo-first finding titled from the item's common problems with the responsible person
picked from the site's people, and the previous visit's result per item."""

import re
import uuid
from datetime import UTC, date, datetime, timedelta

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from e2e.conftest import login, signed_in
from e2e.phone import open_app, photo_file, snap, sync_now, visit_id_from_url, wait_synced, wait_until

PHONE_390 = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
SITE = "徐汇门店"


def _start_adhoc(page, site, start):
    """A visit of its own (ad hoc), so the demo's visits stay as the other browser tests expect."""
    for _ in range(5):  # the list re-renders when a background sync lands: open the form again
        form = page.locator("details.m-card")
        if form.get_attribute("open") is None:
            form.locator("summary").click()
        try:
            form.locator("select").select_option(label=site, timeout=3000)
            form.get_by_role("button", name=start, exact=True).click(timeout=3000)
            page.wait_for_url("**/m/visit/**", timeout=5000)
            return visit_id_from_url(page.url)
        except PlaywrightError:
            continue
    raise AssertionError("could not start an ad-hoc visit")


def _progress(page) -> int:
    return int(re.search(r"\d+", page.locator(".m-progress").inner_text()).group())


def test_first_sync_shows_loading_not_no_visits(browser, server, shot):
    ctx = browser.new_context(locale="zh-CN", **PHONE_390)
    page = ctx.new_page()
    login(page, server, "supervisor", "supervisor-demo-2026")
    held, released = [], []

    def hold(route):  # the first pull waits until the loading state has been checked
        if released:
            route.continue_()
        else:
            held.append(route)

    page.route("**/api/v1/sync/pull**", hold)
    page.goto(server + "/m/")
    page.wait_for_selector("body[data-ready]")
    wait_until(page, "document.body.dataset.sync === 'syncing'")
    expect(page.locator(".m-loading")).to_contain_text("首次同步进行中")
    expect(page.get_by_text("本机尚无巡查")).to_have_count(0)
    expect(page.locator("#unsynced")).not_to_have_text("已全部同步")
    expect(page.locator("#last-sync")).to_have_text("尚未同步")
    snap(shot, page, "h18-visit-first-sync-zh")
    released.append(True)
    for route in held:
        route.continue_()
    wait_synced(page, timeout=60000)
    expect(page.locator("#unsynced")).to_have_text("已全部同步")
    expect(page.locator("#last-sync")).not_to_have_text("尚未同步")
    expect(page.locator(".m-group-today")).to_be_visible()
    ctx.close()


def test_a_faster_visit_offline(browser, server, shot):
    ctx = browser.new_context(locale="zh-CN", **PHONE_390)
    page = ctx.new_page()
    open_app(page, server)

    # The list: grouped, long groups cut short with "show more", and a search by site or plan.
    expect(page.locator(".m-group-head").first).to_contain_text("今天及进行中")
    done = page.locator(".m-group-done")
    expect(done.locator("h2")).to_contain_text("最近完成")
    expect(done.locator("li")).to_have_count(5)
    snap(shot, page, "h18-visit-list-zh")
    done.get_by_role("button", name=re.compile("再显示")).click()
    expect(done.locator("li")).to_have_count(10)
    page.get_by_label("按场所或计划搜索").fill(SITE)
    rows = page.locator(".m-groups li")
    expect(rows.first).to_be_visible()
    assert all(SITE in t for t in rows.all_inner_texts())
    page.get_by_label("按场所或计划搜索").fill("季度运营督导计划")
    expect(rows.first).to_contain_text("季度运营督导计划")
    page.get_by_label("按场所或计划搜索").fill("没有这个场所")
    expect(page.get_by_text("没有与“没有这个场所”匹配的督导任务。")).to_be_visible()
    page.get_by_label("按场所或计划搜索").fill("")

    visit_id = _start_adhoc(page, SITE, "开始")
    sync_now(page)
    wait_synced(page)
    badge = page.locator(".m-visit-sync")
    expect(badge).to_have_text("已同步")
    # The previous visit to this site: its result and note per item.
    expect(page.locator(".m-last").first).to_contain_text("上次督导")

    # Offline: three answers turn the visit's badge and the progress line at once.
    ctx.set_offline(True)
    before = _progress(page)
    items = page.locator("article.m-item")
    items.nth(0).locator(".m-res-pass").click()
    items.nth(1).locator(".m-res-pass").click()
    items.nth(4).locator(".m-res-na").click()
    expect(badge).to_have_text("未同步")
    expect(page.locator(".m-progress")).to_contain_text(f"{before + 3}")
    expect(page.locator("article.m-item").nth(0).locator(".sync-pending")).to_be_visible()
    expect(page.locator("[data-area=process]")).to_have_text("2/3")
    snap(shot, page, "h18-visit-checklist-offline-zh")

    # Photo first, from the fire-safety item: the form opens with the photo, area and item.
    r2 = page.locator("article.m-item", has_text="风险防控措施")
    r2.locator(".m-photo-first input[type=file]").set_input_files(photo_file("exit-blocked", hue=20))
    page.wait_for_url("**/m/finding/**")
    expect(page.locator(".m-photos img")).to_have_count(1)
    expect(page.get_by_label("督导内容")).to_have_value("risk")
    expect(page.get_by_label("检查项")).to_contain_text("风险防控措施")
    page.get_by_role("button", name="消防通道堵塞").click()
    expect(page.get_by_label("标题")).to_have_value("消防通道堵塞")
    person = page.get_by_label("责任人")
    expect(person.locator("option").nth(1)).to_contain_text("冯雪 · 场所负责人")  # the site manager first
    assert "王强" not in person.inner_text()
    person.select_option("冯雪")
    page.get_by_label("严重程度").select_option("high")
    snap(shot, page, "h18-visit-photo-first-finding-zh")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/findings")
    expect(page.locator(".m-list li", has_text="消防通道堵塞")).to_be_visible()

    # Completing with items unanswered needs a reason.
    page.locator("nav.m-tabs").get_by_role("link", name="完成", exact=True).click()
    expect(page.locator("#unanswered-note")).to_contain_text("未作答")
    page.get_by_role("button", name="完成督导").click()
    dialog = page.locator("dialog.m-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="按此理由完成").click()
    expect(dialog.get_by_text("请填写理由。")).to_be_visible()
    dialog.get_by_label("为何在这些检查项未作答时完成督导？").fill("门店临时停电，其余项下次补查")
    snap(shot, page, "h18-visit-complete-reason-zh")
    dialog.get_by_role("button", name="按此理由完成").click()
    expect(page.locator(".m-reason")).to_contain_text("门店临时停电，其余项下次补查")

    # Signal again: everything syncs; the badges follow, and the header never says both.
    ctx.set_offline(False)
    wait_synced(page, timeout=60000)
    expect(page.locator(".m-visit-sync")).to_have_text("已同步")
    expect(page.locator("#unsynced")).to_have_text("已全部同步")
    expect(page.locator("#last-sync")).not_to_have_text("尚未同步")
    assert not page.locator(".m-state-rejected").count()
    snap(shot, page, "h18-visit-completed-synced-zh")
    page.goto(server + "/m/")
    page.wait_for_selector("body[data-ready]")
    expect(page.locator(".m-group-done li").first).to_contain_text(SITE)
    expect(page.locator(".m-group-done li").first.locator(".sync-synced")).to_be_visible()
    ctx.close()

    # The desk shows the reason; the finding names the site manager.
    desk, mp = signed_in(browser, server, "manager", "manager-demo-2026", "zh-CN")
    mp.goto(f"{server}/visits/{visit_id}")
    expect(mp.locator(".completion-reason")).to_contain_text("门店临时停电，其余项下次补查")
    snap(shot, mp, "h18-visit-desk-reason-zh")
    mp.get_by_role("link", name="消防通道堵塞").first.click()
    expect(mp.locator("body")).to_contain_text("冯雪")
    desk.close()


def test_the_same_screens_in_english(browser, server, shot):
    ctx = browser.new_context(locale="en", **PHONE_390)
    page = ctx.new_page()
    open_app(page, server)
    expect(page.locator(".m-group-head").first).to_contain_text("Today and in progress")
    snap(shot, page, "h18-visit-list-en")
    visit_id = _start_adhoc(page, "Xuhui Store", "Start")
    sync_now(page)  # the server computes the previous visit's results into the pulled visit
    wait_synced(page)
    expect(page.locator(".m-last").first).to_contain_text("Last visit")
    s2 = page.locator("article.m-item", has_text="Customer satisfaction")
    s2.locator(".m-res-fail").click()
    expect(page.locator(".m-visit-sync")).to_have_text("Not synced")
    snap(shot, page, "h18-visit-checklist-en")
    page.locator("article.m-item", has_text="Customer satisfaction").get_by_role("button", name="Record finding").click()
    page.wait_for_url("**/m/finding/**")
    expect(page.get_by_label("Title")).to_have_value("")  # not the item's name: typed or picked
    expect(page.get_by_label("Checklist item")).to_contain_text("Customer satisfaction")
    expect(page.locator(".m-chip")).to_have_count(2)  # the item's common problems
    expect(page.get_by_label("Responsible person").locator("option").nth(1)).to_contain_text("site manager")
    snap(shot, page, "h18-visit-finding-form-en")
    page.get_by_label("Title").fill("Complaint not answered for a week")
    page.get_by_label("Title").blur()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/findings")
    sync_now(page)  # online: "Sync now" rather than the automatic sync three seconds after the save
    wait_synced(page)
    # The desk offers the same completion, under the same rule.
    desk, mp = signed_in(browser, server, "manager", "manager-demo-2026", "en")
    mp.goto(f"{server}/visits/{visit_id}")
    expect(mp.locator(".complete-form")).to_contain_text("14 checklist items are unanswered.")
    snap(shot, mp, "h18-visit-desk-complete-form-en")
    desk.close()
    page.locator("nav.m-tabs").get_by_role("link", name="Complete", exact=True).click()
    page.get_by_role("button", name="Complete visit").click()
    expect(page.locator("dialog.m-dialog")).to_contain_text("14 of 15 checklist items are unanswered.")
    snap(shot, page, "h18-visit-complete-reason-en")
    page.locator("dialog.m-dialog").get_by_label("Why is the visit completed without them?").fill("Power cut on site")
    page.locator("dialog.m-dialog").get_by_role("button", name="Complete with this reason").click()
    expect(page.locator(".m-reason")).to_contain_text("Power cut on site")
    sync_now(page)
    wait_synced(page)
    ctx.close()
    desk, mp = signed_in(browser, server, "manager", "manager-demo-2026", "en")
    mp.goto(f"{server}/visits/{visit_id}")
    expect(mp.locator(".completion-reason")).to_contain_text("Power cut on site")
    snap(shot, mp, "h18-visit-desk-reason-en")
    desk.close()


def test_an_overdue_visit_has_its_group(browser, server, shot):
    """A visit planned days ago and not done is listed under "overdue", above the upcoming ones; it is
    removed again so the demo's lists stay as the other browser tests expect."""
    ctx = browser.new_context(locale="zh-CN", **PHONE_390)
    page = ctx.new_page()
    open_app(page, server)
    ids = page.evaluate("""async () => {
      const db = await new Promise((ok) => { const r = indexedDB.open('supervision'); r.onsuccess = () => ok(r.result); });
      const rows = await new Promise((ok) => { const r = db.transaction('records').objectStore('records').getAll(); r.onsuccess = () => ok(r.result); });
      const site = rows.find((x) => x.entity === 'site' && x.data.name === '浦东物流仓');
      const visit = rows.find((x) => x.entity === 'visit' && x.data.template_id);
      return { site: site.id, template: visit.data.template_id };
    }""")
    api = browser.new_context()  # no session cookie: the API's bearer token, as a phone app uses it
    made = api.request.post(f"{server}/api/v1/auth/token",
                             data={"username": "supervisor", "password": "supervisor-demo-2026", "device_name": "e2e"})
    assert made.status == 201, made.text()
    bearer = {"Authorization": f"Bearer {made.json()['token']}"}
    visit_id, device = str(uuid.uuid4()), str(uuid.uuid4())
    day = date.today() - timedelta(days=6)

    def push(op, data, base_version):
        body = {"device_id": device, "mutations": [{
            "mutation_id": str(uuid.uuid4()), "entity": "visit", "id": visit_id, "op": op, "base_version": base_version,
            "data": data, "client_time": datetime.now(UTC).isoformat()}]}
        r = api.request.post(f"{server}/api/v1/sync/push", data=body, headers=bearer)
        assert r.status == 200, r.text()
        return r.json()["results"][0]

    res = push("upsert", {"site_id": ids["site"], "template_id": ids["template"], "status": "scheduled",
                          "scheduled_for": day.isoformat(), "due_by": (day + timedelta(days=2)).isoformat()}, 0)
    assert res["status"] == "applied", res
    try:
        sync_now(page)
        wait_synced(page)
        overdue = page.locator(".m-group-overdue")
        expect(overdue.locator("h2")).to_contain_text("已逾期")
        expect(overdue.locator("li")).to_have_count(1)
        expect(overdue.locator("li")).to_contain_text("浦东物流仓")
        # the groups in order: today and in progress, overdue, upcoming, recently done
        heads = page.locator(".m-group").evaluate_all("(els) => els.map((e) => e.className)")
        assert [h.split("m-group-")[1] for h in heads] == ["today", "overdue", "upcoming", "done"], heads
        snap(shot, page, "h18-visit-list-overdue-zh")
    finally:
        res = push("delete", {}, res.get("version", 1))
        assert res["status"] == "applied", res
        api.close()
        ctx.close()
