"""Photo markup and signatures on a 390×844 phone, OFFLINE: draw a circle (mouse), an arrow (touch),
a rectangle (undone) and a text on a finding's photo, the site manager signs the opening meeting;
back online and synced, the desk shows the marked-up rendition (the original's hash unchanged) and the
signature, and the PDF report shows both (pdftoppm → pixels). The acceptance screen pairs before and
after and takes a signature. Screenshots (zh-CN and en): e2e/artifacts/h18-markup-*.png, or
docs/screenshots/ with UPDATE_DOCS_SCREENSHOTS=1."""

import hashlib
import io
import os
import re

import pytest
from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from e2e.conftest import ARTIFACTS, DESKTOP, ROOT, login, show_language
from e2e.phone import (
    open_app,
    photo_file,
    show_phone_language,
    sync_now,
    visit_id_from_url,
    wait_synced,
    wait_until,
)
from tests.pdf_checks import band_at_bottom, dark_strokes, pdf_text, pictures, render, require_poppler

PHONE_390 = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
DOCS = ROOT / "docs" / "screenshots" if os.environ.get("UPDATE_DOCS_SCREENSHOTS") else ARTIFACTS


def shot(page_or_locator, name):
    """A screenshot; a locator's element may be re-rendered under it (the app refreshes a screen when
    a sync brings news), so it is tried again."""
    DOCS.mkdir(parents=True, exist_ok=True)
    for attempt in range(5):
        try:
            page_or_locator.screenshot(path=str(DOCS / f"h18-markup-{name}.png"), timeout=5000)
            return
        except PlaywrightError:
            if attempt == 4:
                raise


def box_of(locator):
    """The element's box once scrolled into view (retried: the screen may be re-rendered meanwhile)."""
    for attempt in range(5):
        try:
            locator.scroll_into_view_if_needed(timeout=3000)
            return locator.bounding_box(timeout=3000)
        except PlaywrightError:
            if attempt == 4:
                raise


def drag(page, box, x1, y1, x2, y2, steps=8):
    """A mouse drag between two points given as fractions of the element's box."""
    page.mouse.move(box["x"] + x1 * box["width"], box["y"] + y1 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + x2 * box["width"], box["y"] + y2 * box["height"], steps=steps)
    page.mouse.up()


def touch_drag(page, box, x1, y1, x2, y2, steps=6):
    """A finger drag through the DevTools protocol (real touch events → pointer events)."""
    cdp = page.context.new_cdp_session(page)
    at = lambda fx, fy: [{"x": box["x"] + fx * box["width"], "y": box["y"] + fy * box["height"]}]  # noqa: E731
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": at(x1, y1)})
    for i in range(1, steps + 1):
        t = i / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": at(x1 + (x2 - x1) * t, y1 + (y2 - y1) * t)})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def _red(px):
    r, g, b = px[:3]
    return r > 170 and g < 90 and b < 90


def test_markup_and_signature_offline_then_desk_and_pdf(browser, server, tmp_path):
    ctx = browser.new_context(locale="zh-CN", **PHONE_390)
    page = ctx.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    open_app(page, server)
    page.get_by_role("link", name="徐汇门店").first.click()
    page.wait_for_url("**/m/visit/**")
    visit_id = visit_id_from_url(page.url)

    ctx.set_offline(True)
    # -- the opening meeting: the site manager signs with a finger (mouse here, touch below) --
    page.goto(f"{server}/m/visit/{visit_id}/meeting")
    page.wait_for_selector("body[data-ready]")
    card = page.locator(".m-signature[data-signature='opening_signature']")
    if card.get_by_role("button", name="重新签字").count():  # the demo visit is signed already
        card.get_by_role("button", name="重新签字").click()
    card.get_by_label("签字人姓名").fill("王店长")
    pad = card.locator("canvas.sk-pad")
    box = box_of(pad)
    drag(page, box, 0.1, 0.6, 0.3, 0.2)
    drag(page, box, 0.3, 0.2, 0.5, 0.8)
    touch_drag(page, box_of(pad), 0.55, 0.5, 0.9, 0.45)
    shot(card, "signature-pad-zh-CN-phone")
    card.get_by_role("button", name="保存签字").click()
    signed = page.locator(".m-signature[data-signature='opening_signature']")
    expect(signed).to_contain_text("王店长")
    expect(signed.locator("canvas.sk-signed")).to_be_visible()
    shot(signed, "signature-signed-zh-CN-phone")

    # -- a finding with a photo, marked up offline --
    page.goto(f"{server}/m/visit/{visit_id}/findings")
    page.wait_for_selector("body[data-ready]")
    page.get_by_role("button", name="新增问题").click()
    page.get_by_label("标题").fill("消防通道被货物堵塞")
    page.get_by_label("标题").blur()
    page.locator("input[type=file]").set_input_files(photo_file("exit", size=(1600, 1200), hue=10))
    page.locator(".m-photos img").wait_for()
    page.locator(".m-markup-btn").first.click()
    editor = page.locator(".sk-editor")
    expect(editor).to_be_visible()
    canvas = editor.locator("canvas.sk-canvas")
    wait_until(page, "document.querySelector('.sk-canvas').width > 0")
    box = canvas.bounding_box()
    drag(page, box, 0.3, 0.3, 0.7, 0.7)  # circle (mouse)
    editor.get_by_role("button", name="箭头").click()
    editor.get_by_role("button", name="黄色").click()
    touch_drag(page, canvas.bounding_box(), 0.9, 0.1, 0.72, 0.32)  # arrow (finger)
    editor.get_by_role("button", name="方框").click()
    drag(page, box, 0.05, 0.75, 0.25, 0.95)  # a rectangle …
    editor.get_by_role("button", name="撤销").click()  # … undone
    editor.get_by_role("button", name="文字").click()
    editor.get_by_label("要添加的文字（输入后点按照片）").fill("堵塞")
    page.mouse.click(box["x"] + 0.08 * box["width"], box["y"] + 0.08 * box["height"])
    shot(page, "markup-editor-zh-CN-phone")
    editor.get_by_role("button", name="保存").click()
    expect(editor).to_have_count(0)
    expect(page.locator(".m-marked")).to_have_text("已标注")
    # a finding not under review has no review note, and no stray "null" text in its place
    assert page.evaluate("[...document.querySelector('h1').parentNode.childNodes]"
                         ".every((n) => n.nodeType !== 3 || n.textContent.trim() !== 'null')")
    shot(page, "markup-marked-zh-CN-phone")
    markup = page.evaluate("""async () => {
      const db = await new Promise((ok) => { const r = indexedDB.open('supervision'); r.onsuccess = () => ok(r.result); });
      const rows = await new Promise((ok) => { const r = db.transaction('records').objectStore('records').getAll(); r.onsuccess = () => ok(r.result); });
      return rows.find((x) => x.entity === 'finding' && x.data.title === '消防通道被货物堵塞').data.markup;
    }""")
    (sha, shapes), = markup.items()
    assert [s["kind"] for s in shapes] == ["circle", "arrow", "text"]
    assert shapes[1]["color"] == "yellow" and shapes[2]["text"] == "堵塞"
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/findings")

    # -- online: sync --
    ctx.set_offline(False)
    sync_now(page)
    wait_synced(page, timeout=60000)
    assert not [e for e in errors if "Content Security Policy" in e], errors
    ctx.close()

    # -- the desk --
    desk = browser.new_context(locale="zh-CN", **DESKTOP)
    mp = desk.new_page()
    desk_errors = []
    mp.on("console", lambda m: desk_errors.append(m.text) if m.type == "error" else None)
    login(mp, server, "manager", "manager-demo-2026")
    mp.goto(f"{server}/visits/{visit_id}")
    sig = mp.locator("#h-signatures").locator("..")
    expect(sig).to_contain_text("王店长")
    expect(sig.locator("polyline").first).to_be_attached()
    sig.scroll_into_view_if_needed()
    shot(sig, "signatures-zh-CN-desktop")
    mp.goto(server + "/findings/")
    href = mp.get_by_role("link", name="消防通道被货物堵塞").first.get_attribute("href")
    mp.goto(server + href)
    expect(mp.locator(".evidence-panel")).to_contain_text("已标注")
    display = desk.request.get(f"{server}/api/v1/photos/{sha}?variant=display")
    assert display.status == 200
    with Image.open(io.BytesIO(display.body())) as im:
        im = im.convert("RGB")
        w, h = im.size
        # the circle's left edge at its mid-height is red (read from the recorded shape: where the drag
        # lands on the photo depends on the browser's layout of the editor)
        c = shapes[0]
        cx, cy = min(c["x1"], c["x2"]), (c["y1"] + c["y2"]) / 2
        assert any(_red(im.getpixel((min(w - 1, max(0, round(cx * (w - 1)) + dx)), round(cy * (h - 1)))))
                   for dx in range(-4, 5)), (c, w, h)
        DOCS.mkdir(parents=True, exist_ok=True)
        im.resize((w // 2, h // 2)).save(DOCS / "h18-markup-display-rendition-zh-CN-desktop.png")
    original = desk.request.get(f"{server}/api/v1/photos/{sha}?variant=original")
    assert original.status == 200 and hashlib.sha256(original.body()).hexdigest() == sha
    mp.locator(".evidence-panel").scroll_into_view_if_needed()
    shot(mp.locator(".evidence-panel"), "evidence-marked-zh-CN-desktop")

    # -- the PDF report: markup and signature --
    mp.goto(f"{server}/reports/")
    token = mp.locator("input[name=csrf_token]").first.get_attribute("value")
    made = mp.request.post(f"{server}/reports/new", form={"csrf_token": token, "visit_id": visit_id})
    assert made.status == 200, made.status
    mp.goto(made.url)
    mp.wait_for_url(re.compile(r".*/reports/[0-9a-f-]{36}$"))
    expect(mp.locator(".report-body")).to_contain_text("王店长")
    pdf = desk.request.get(mp.url + "/report.pdf")
    assert pdf.status == 200 and pdf.body()[:4] == b"%PDF"
    (tmp_path / "r.pdf").write_bytes(pdf.body())
    require_poppler()  # a failure under CI=true, a skip with its reason otherwise
    pdf_path = tmp_path / "r.pdf"
    pages = render(pdf_path, 80)
    reds = 0
    for i, page_img in enumerate(pages):
        DOCS.mkdir(parents=True, exist_ok=True)
        page_img.save(DOCS / f"h18-markup-pdf-page{i + 1}.png")
        reds += sum(1 for px in page_img.get_flattened_data() if _red(px))
    assert reds > 30, reds  # the red circles drawn on the photos
    placed = pictures(pdf_path)
    photos = [p for p in placed if p.width / p.height < 2]
    signatures = [p for p in placed if p.width / p.height > 2.5]  # a signature is drawn 3:1
    # every photo carries the watermark band (site, time, supervisor, short hash) along its bottom
    assert photos and all(band_at_bottom(p.crop(pages[p.page - 1], 80)) for p in photos), photos
    # the opening signature, drawn: dark strokes in its picture, not only its caption
    assert signatures and max(dark_strokes(p.crop(pages[p.page - 1], 80)) for p in signatures) > 30
    text = pdf_text(pdf_path)
    assert "王店长" in text and "首次会议签字" in text.replace(" ", "")
    assert sha[:8] in text  # the evidence line names the short hash the band shows

    # -- the same in English: the visit's signatures and the PDF --
    show_language(mp, "en")
    report_url = mp.url
    mp.goto(f"{server}/visits/{visit_id}")
    sig = mp.locator("#h-signatures").locator("..")
    expect(sig).to_contain_text("Signature at the opening meeting")
    sig.scroll_into_view_if_needed()
    shot(sig, "signatures-en-desktop")
    pdf = desk.request.get(report_url + "/report.pdf")
    assert pdf.status == 200
    en_pdf = tmp_path / "en.pdf"
    en_pdf.write_bytes(pdf.body())
    assert "Signature at the opening meeting" in " ".join(pdf_text(en_pdf).split())
    for i, page_img in enumerate(render(en_pdf, 80)):
        page_img.save(DOCS / f"h18-markup-pdf-en-page{i + 1}.png")
    assert not [e for e in desk_errors if "Content Security Policy" in e], desk_errors
    desk.close()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_acceptance_before_after_and_signature_on_the_desk(browser, server, lang):
    """The demo's cash-desk finding waits for acceptance with an "after" photo: the supervisor sees the
    pair and the site's person signs with the mouse."""
    desk = browser.new_context(locale=lang, **DESKTOP)
    mp = desk.new_page()
    errors = []
    mp.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login(mp, server, "supervisor", "supervisor-demo-2026")
    mp.goto(server + "/rectification/")
    mp.get_by_role("link", name="收银台现金未按规定日结").first.click()
    pair = mp.locator("#before-after")
    expect(pair.locator("img")).to_have_count(2)
    wait_until(mp, "[...document.querySelectorAll('#before-after img')].every((i) => i.complete && i.naturalWidth > 0)")
    expect(pair).to_contain_text("整改后" if lang == "zh-CN" else "After rectification")
    pair.scroll_into_view_if_needed()
    shot(pair, f"before-after-{lang}-desktop")
    if lang == "en":  # decide once (the other language's run only looks)
        form = mp.locator("form[action$='/decide']")
        form.locator("input[value=pass]").check()
        form.get_by_label("Name of the person signing").fill("Sun Qiang")
        box = box_of(form.locator("canvas.sk-pad"))
        drag(mp, box, 0.1, 0.7, 0.4, 0.2)
        drag(mp, box, 0.4, 0.2, 0.8, 0.7)
        shot(form, "acceptance-signature-en-desktop")
        form.get_by_role("button", name="Record decision").click()
        rounds = mp.locator("#rounds")
        expect(rounds).to_contain_text("Sun Qiang")
        expect(rounds.locator("polyline").first).to_be_attached()
        rounds.scroll_into_view_if_needed()
        shot(rounds, "acceptance-signed-en-desktop")
    else:
        form = mp.locator("form[action$='/decide']")
        form.scroll_into_view_if_needed()
        shot(form, "acceptance-signature-zh-CN-desktop")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    desk.close()


def test_markup_editor_and_signature_in_english(browser, server):
    ctx = browser.new_context(locale="en", **PHONE_390)
    page = ctx.new_page()
    open_app(page, server)
    show_phone_language(page, "en")
    page.get_by_role("link", name=re.compile("Xuhui|徐汇")).first.click()
    page.wait_for_url("**/m/visit/**")
    visit_id = visit_id_from_url(page.url)
    page.goto(f"{server}/m/visit/{visit_id}/complete")
    page.wait_for_selector("body[data-ready]")
    card = page.locator(".m-signature[data-signature='closing_signature']")
    expect(card).to_contain_text("Signature at the closing meeting")
    if card.get_by_role("button", name="Sign again").count():
        card.get_by_role("button", name="Sign again").click()
    card.get_by_label("Name of the person signing").fill("Liu Yang")
    drag(page, box_of(card.locator("canvas.sk-pad")), 0.1, 0.5, 0.9, 0.5)
    shot(card, "signature-pad-en-phone")
    page.goto(f"{server}/m/visit/{visit_id}/findings")
    page.wait_for_selector("body[data-ready]")
    page.get_by_role("button", name="New finding").click()
    page.get_by_label("Title").fill("Blocked fire exit")
    page.locator("input[type=file]").set_input_files(photo_file("exit-en", size=(1200, 1600), hue=90))
    page.locator(".m-photos img").wait_for()
    page.get_by_role("button", name="Mark up").first.click()
    editor = page.locator(".sk-editor")
    wait_until(page, "document.querySelector('.sk-canvas').width > 0")
    box = editor.locator("canvas").bounding_box()
    drag(page, box, 0.2, 0.3, 0.8, 0.6)
    editor.get_by_role("button", name="Arrow").click()
    drag(page, box, 0.9, 0.9, 0.6, 0.62)
    shot(page, "markup-editor-en-phone")
    editor.get_by_role("button", name="Save").click()
    expect(page.locator(".m-marked")).to_have_text("marked up")
    shot(page, "markup-marked-en-phone")
    ctx.close()
