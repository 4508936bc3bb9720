"""Rich checklists (docs/checklists.md): the template editor on the desk, and a visit with the
demo's food-safety template on a 390×844 phone with no signal — criteria, guidance, reference
photos, a measured temperature, a 0–5 scale, a multiple choice and conditional items — then sync,
and the desk's visit page shows the answers. Screens (h19-checklists-*) go to docs/screenshots/ with UPDATE_DOCS_SCREENSHOTS=1, else e2e/artifacts/."""

import pytest
from PIL import Image
from playwright.sync_api import expect

from e2e.conftest import DESKTOP, docs_screenshots, login, serve
from e2e.phone import open_app, photo_file, show_phone_language, sync_now, unsynced, wait_synced, wait_until
from webapp.demo.keys import demo_id

SHOTS = docs_screenshots()  # docs/screenshots/ only with UPDATE_DOCS_SCREENSHOTS=1
PHONE_390 = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
DESK = {**DESKTOP, "viewport": {"width": 1366, "height": 800}}
VISIT = demo_id("visit:food-safety")
TEMPLATE = demo_id("template:food-safety")
REFERENCE_CACHED = """(async () => {
  const db = await new Promise((ok, no) => { const r = indexedDB.open('supervision'); r.onsuccess = () => ok(r.result); r.onerror = no; });
  const all = await new Promise((ok) => { const q = db.transaction('photos').objectStore('photos').getAll(); q.onsuccess = () => ok(q.result); });
  db.close();
  return all.filter((p) => p.reference).length >= 2;
})()"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("instance-rich")) as base:
        yield base


def small_png(page, name):
    """A full-page screenshot reduced to 256 colours, for the docs."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"h19-checklists-{name}.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)


def _console_errors(page):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_template_editor(browser, site, lang):
    ctx = browser.new_context(locale=lang, **DESK)
    page = ctx.new_page()
    errors = _console_errors(page)
    login(page, site, "admin", "admin-demo-2026")
    page.goto(f"{site}/checklists/{TEMPLATE}")
    expect(page.locator("h1")).to_contain_text("门店食品安全检查表" if lang == "zh-CN" else "Store food safety checklist")
    small_png(page, f"template-{lang}")
    page.goto(f"{site}/checklists/{TEMPLATE}/edit")
    fs3 = page.locator("#item-2")
    expect(fs3.get_by_label("答题方式" if lang == "zh-CN" else "Answer type")).to_have_value("scale")
    # Only the type's own settings show: the scale's bounds, not the options or the range.
    expect(fs3.locator(".ck-type-scale")).to_be_visible()
    expect(fs3.locator(".ck-type-choice")).to_be_hidden()
    expect(fs3.locator(".ck-ref-list img")).to_have_count(2)
    small_png(page, f"editor-{lang}")
    # Keyboard: the type select is reachable and switching it shows the options box.
    fs3.locator(".ck-type").focus()
    fs3.locator(".ck-type").select_option("choice")
    expect(fs3.locator(".ck-type-choice")).to_be_visible()
    fs3.locator(".ck-type").select_option("scale")
    # A bad scale: a 400 with a clear message beside the item, nothing lost.
    fs3.locator("input[name='items-2-scale_max']").fill("0")
    page.get_by_role("button", name="保存模板" if lang == "zh-CN" else "Save template").click()
    page.wait_for_load_state()
    body = page.locator("main").inner_text()
    if lang == "zh-CN":
        assert "最高分必须大于最低分。" in body
    else:
        assert "The highest score must be above the lowest." in body
    expect(page.locator("input[name='items-0-range_max']")).to_have_value("4")
    expect(page.locator("input[name='items-2-scale_max']")).to_have_attribute("aria-invalid", "true")
    # Then a condition pointing forward (conditions only look back, so they never go round).
    page.locator("input[name='items-2-scale_max']").fill("5")
    page.locator("input[name='items-1-condition_item']").fill("FS6")
    page.get_by_role("button", name="保存模板" if lang == "zh-CN" else "Save template").click()
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text(
        "显示条件必须指向排在前面的检查项。" if lang == "zh-CN" else "A condition must point to an earlier item.")
    if lang == "en":
        small_png(page, "editor-errors-en")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    ctx.close()


def test_a_rich_visit_offline_on_the_phone_then_the_desk(browser, site):
    ctx = browser.new_context(locale="zh-CN", **PHONE_390)
    page = ctx.new_page()
    errors = _console_errors(page)
    open_app(page, site)
    wait_until(page, REFERENCE_CACHED, timeout=20000)  # the reference photos are on the phone

    page.goto(f"{site}/m/visit/{VISIT}/checklist")
    page.wait_for_selector("body[data-ready]")
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready]")
    expect(page.locator("#net")).to_have_text("离线")
    page.get_by_role("button", name="开始督导").click()

    item = lambda code: page.locator("article.m-item").filter(has=page.locator(".m-code", has_text=code))  # noqa: E731
    expect(item("FS2")).to_be_hidden()  # conditional: only when the temperature fails
    expect(item("FS5")).to_be_hidden()
    expect(item("FS1")).to_contain_text("冷藏柜内温度在 0–4 °C 之间")
    expect(item("FS1")).to_contain_text("合格范围：0–4 °C")
    # Guidance and the reference photos, from the phone's own store while offline.
    item("FS3").get_by_text("检查方法").click()
    refs = item("FS3").locator(".m-refs img")
    expect(refs).to_have_count(2)
    wait_until(page, "[...document.querySelectorAll('.m-refs img')].every((i) => i.complete && i.naturalWidth > 0)")
    assert refs.first.get_attribute("src").startswith("blob:")

    # A measured temperature out of range fails and brings up the follow-up item.
    item("FS1").get_by_label("实测值").fill("7.5")
    item("FS1").get_by_label("实测值").blur()
    expect(item("FS1")).to_contain_text("判定：不合格")
    expect(item("FS2")).to_be_visible()
    item("FS1").locator("input[type=file][multiple]").set_input_files(photo_file("fs1-thermometer"))
    expect(item("FS1").locator(".m-photos img")).to_have_count(1)
    item("FS2").locator(".m-res-pass").click()
    # The 0–5 scale.
    item("FS3").get_by_role("button", name="4", exact=True).click()
    expect(item("FS3")).to_contain_text("判定：合格")
    # A multiple choice: the option marked as a failure brings up its follow-up.
    item("FS4").get_by_role("button", name="发现过期食品").click()
    expect(item("FS4")).to_contain_text("判定：不合格")
    expect(item("FS5")).to_be_visible()
    item("FS5").locator(".m-res-pass").click()
    item("FS6").locator(".m-res-pass").click()
    expect(page.locator(".m-progress")).to_have_text("已检查 6 / 6 项")  # the two follow-ups shown count too
    item("FS3").get_by_text("检查方法").click()  # the guidance and reference photos open in the screenshot
    expect(item("FS3").locator(".m-refs img")).to_have_count(2)
    small_png(page, "phone-visit-zh")

    # The score follows the types: risk = (0·2 + 1 + 0 + 1) / 5 = 40 %, process = 4/5 = 80 %,
    # service 100 %, overall (2 + 0.8·1.5 + 1) / 7.5 = 56 %.
    page.get_by_role("link", name="完成").click()
    score = page.locator("table.m-score")
    expect(score).to_contain_text("40%")
    expect(score).to_contain_text("80%")
    expect(score).to_contain_text("56%")
    page.get_by_role("button", name="完成督导").click()
    assert unsynced(page) >= 7

    ctx.set_offline(False)
    sync_now(page)
    wait_synced(page)
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    ctx.close()

    # The desk: the visit page shows each answer in its item's terms.
    for lang in ("zh-CN", "en"):
        desk = browser.new_context(locale=lang, **DESK)
        dpage = desk.new_page()
        login(dpage, site, "manager", "manager-demo-2026")
        dpage.goto(f"{site}/visits/{VISIT}")
        answers = dpage.locator("#answers")
        expect(answers).to_contain_text("7.5 °C")
        if lang == "en":
            expect(answers).to_contain_text("4 on 0–5")
            expect(answers).to_contain_text("Expired food found")
            expect(answers).to_contain_text("6 of 6 items answered.")
        else:
            expect(answers).to_contain_text("4 分（0–5 分）")
            expect(answers).to_contain_text("发现过期食品")
        expect(dpage.locator(".facts")).to_be_visible()
        dpage.locator("#answers").scroll_into_view_if_needed()
        small_png(dpage, f"desk-visit-{lang}")
        desk.close()

    # The phone in English shows the same visit, synced.
    ctx = browser.new_context(locale="en", **PHONE_390)
    page = ctx.new_page()
    open_app(page, site)
    show_phone_language(page, "en")
    page.goto(f"{site}/m/visit/{VISIT}/checklist")
    page.wait_for_selector("body[data-ready]")
    expect(page.locator("article.m-item").first).to_be_visible()
    page.locator("article.m-item").first.get_by_text("How to check").click()
    small_png(page, "phone-visit-en")
    ctx.close()
