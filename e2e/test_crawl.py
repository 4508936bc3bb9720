"""The crawler: every demo role, every page its navigation reaches (and one level deeper, one page
per kind), in zh-CN and en, on a 1366×800 desktop and a 360×740 phone.

A page fails on: an HTTP 4xx/5xx (the page or anything it loads), a console error (CSP violations
included), a horizontal scroll at 360 px, ASCII `,:;()` between two Chinese characters (zh-CN), a
raw enum value or field name shown as text, and English catalog text left untranslated on a zh-CN
page. Every problem is collected and reported together, with its URL.
"""

import re
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po

from e2e.conftest import ROOT
from webapp.auth.models import ROLES
from webapp.checklists.models import AREAS, SCORING
from webapp.demo.seed import DEMO_USERS
from webapp.findings.models import FINDING_STATUSES, SEVERITIES
from webapp.i18n import TERMS
from webapp.org.models import DEPARTMENT_KINDS
from webapp.plans.models import NOTE_KINDS, PERIOD_TYPES, PLAN_STATUSES
from webapp.rectification.models import RECTIFICATION_STATUSES
from webapp.reports.models import REPORT_STATUSES
from webapp.results.models import WARNING_KINDS, WARNING_LIVE
from webapp.visits.models import METRIC_KINDS, RESULTS, VISIT_STATUSES

DESKTOP = {"viewport": {"width": 1366, "height": 800}}
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
ROLES_TO_CRAWL = ("admin", "manager", "supervisor", "dept_head", "staff")
MAX_PAGES = 24  # per role: the navigation plus one page per kind one level deeper

CJK = "\u3400-\u4dbf\u4e00-\u9fff"
ASCII_PUNCT_IN_CJK = re.compile(rf"[{CJK}][ \t]*[,:;()][ \t]*[{CJK}]")
SKIP_HREF = re.compile(r"(^/m/|^/m$|/logout|/api/|/static/|/media/|\.(pdf|xlsx|csv|zip|jpe?g|png|webp)$"
                       r"|/export|/download|/pdf|/photos/\d+)")

# Raw codes: the models' enum tuples and the synced records' field names. Lower-case English words
# ("open", "high") are labels in en, so there only codes no person would write count.
ENUM_CODES = {*ROLES, *AREAS, *SCORING, *SEVERITIES, *FINDING_STATUSES, *DEPARTMENT_KINDS, *PERIOD_TYPES,
              *PLAN_STATUSES, *NOTE_KINDS, *RECTIFICATION_STATUSES, *REPORT_STATUSES, *WARNING_KINDS,
              *WARNING_LIVE, *VISIT_STATUSES, *RESULTS, *METRIC_KINDS, *TERMS["entity"]}
FIELD_NAMES = {f for f in TERMS["field"] if "_" in f} | {"visit_id", "site_id", "has_conflict", "finding_id",
                                                        "user_id", "device_id", "base_version"}
RAW_ZH = {c for c in ENUM_CODES | FIELD_NAMES if re.fullmatch(r"[a-z][a-z_]+", c) and c != "na"}
RAW_EN = {c for c in RAW_ZH if "_" in c}

# English msgids that may stand in a zh-CN page: brands, formats, the language switch.
ALLOWED_ENGLISH = {"English", "Excel", "PDF", "OK", "ID", "Email", "SSO", "N/A"}


def _catalog_phrases():
    """English msgids translated in the zh catalog, long enough to be unambiguous when found."""
    path = ROOT / "webapp/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
    with Path(path).open("rb") as f:
        catalog = read_po(f)
    phrases = set()
    for msg in catalog:
        if not msg.id or not msg.string:
            continue
        ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
        for text in ids:
            for part in re.split(r"%\(\w+\)[sd]|%[sd]|\{\w*\}", text):
                part = part.strip(" .,:;()")
                if part in ALLOWED_ENGLISH or not re.search(r"[A-Za-z]", part):
                    continue
                if " " in part and len(part) >= 10:
                    phrases.add(part)
    return phrases


PHRASES = None

VISIBLE_TEXT_JS = """() => {
  const skip = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'CODE', 'PRE', 'KBD', 'SAMP',
                        'TEXTAREA', 'INPUT', 'SELECT', 'OPTION']);
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const text = node.nodeValue.trim();
    if (!text) continue;
    let el = node.parentElement, hidden = false;
    for (let e = el; e; e = e.parentElement) {
      if (skip.has(e.tagName)) { hidden = true; break; }
    }
    if (hidden || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    out.push(text);
  }
  return out.join('\\n');
}"""


def _same_origin_path(base, href):
    if not href:
        return None
    parts = urlsplit(href)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return None
    if parts.netloc and f"{parts.scheme}://{parts.netloc}" != base:
        return None
    path = parts.path or "/"
    if SKIP_HREF.search(path):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def _kind(path):
    """One representative page per kind: numbers and ids become placeholders, the query is dropped."""
    return re.sub(r"/[0-9a-f-]{6,}|/\d+", "/N", path.split("?")[0])


def _links(page, base, selector):
    hrefs = page.eval_on_selector_all(
        selector, "els => els.filter(a => !a.hasAttribute('download')).map(a => a.href)")
    return [p for p in (_same_origin_path(base, h) for h in hrefs) if p]


def _discover(page, base):
    """The role's pages: its navigation, then the links on those pages one level deep."""
    nav = []
    for p in _links(page, base, ".sidebar a[href], .topbar a[href]"):
        if p not in nav:
            nav.append(p)
    pages, kinds = list(nav), {_kind(p) for p in nav}
    for p in nav:
        if len(pages) >= MAX_PAGES:
            break
        page.goto(base + p, wait_until="load")
        for link in _links(page, base, "main a[href]"):
            if len(pages) >= MAX_PAGES:
                break
            if _kind(link) not in kinds:
                kinds.add(_kind(link))
                pages.append(link)
    return pages


def _check_page(page, base, path, lang, phone, problems, console):
    console.clear()
    bad_responses = []

    def on_response(resp):
        if resp.status >= 400 and resp.url.startswith(base):
            bad_responses.append(f"HTTP {resp.status} {resp.url[len(base):]}")

    page.on("response", on_response)
    try:
        resp = page.goto(base + path, wait_until="load")
        try:
            page.wait_for_function("!document.querySelector('.htmx-request')", timeout=3000)
        except Exception:  # noqa: BLE001 (a slow fragment is reported by its own status, if any)
            pass
    finally:
        page.remove_listener("response", on_response)
    where = f"[{lang} {'phone' if phone else 'desktop'}] {path}"
    if resp is not None and resp.status >= 400:
        problems[where].append(f"HTTP {resp.status}")
    problems[where].extend(sorted(set(bad_responses) - {f"HTTP {resp.status} {path}" if resp else ""}))
    problems[where].extend(f"console: {m}" for m in console)
    if phone:
        sw, cw = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if sw > cw + 1:
            problems[where].append(f"horizontal scroll: {sw} > {cw}")
    text = page.evaluate(VISIBLE_TEXT_JS)
    text = re.sub(r"(https?://|/)\S+", " ", text)
    if lang == "zh-CN":
        for m in ASCII_PUNCT_IN_CJK.finditer(text):
            problems[where].append(f"ASCII punctuation between Chinese characters: {m.group(0)!r}")
        for phrase in PHRASES:
            if phrase in text:
                problems[where].append(f"untranslated: {phrase!r}")
    raw = RAW_ZH if lang == "zh-CN" else RAW_EN
    words = set(re.findall(r"(?<![\w/.-])[a-z][a-z_]+(?![\w/.-])", text))
    for code in sorted(words & raw):
        problems[where].append(f"raw code shown: {code!r}")
    if not problems[where]:
        del problems[where]


def _sign_in(browser, base, user, lang, device):
    ctx = browser.new_context(locale=lang, **device)
    page = ctx.new_page()
    page.goto(base + "/login")
    page.fill("#username", user["username"])
    page.fill("#password", user["password"])
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(base + "/")
    button = page.locator(f".topbar .locale-switch button[lang='{lang}']")
    if button.get_attribute("aria-pressed") != "true":
        button.click()
        page.wait_for_load_state()
    return ctx, page


@pytest.mark.parametrize("role", ROLES_TO_CRAWL)
def test_every_page_of_every_role_is_clean(server, browser, role):
    global PHRASES
    if PHRASES is None:
        PHRASES = _catalog_phrases()
    user = next(u for u in DEMO_USERS if u["role"] == role)
    problems = defaultdict(list)
    pages = None
    for lang in ("zh-CN", "en"):
        for phone, device in ((False, DESKTOP), (True, PHONE)):
            ctx, page = _sign_in(browser, server, user, lang, device)
            console = []
            page.on("console", lambda m: m.type == "error" and console.append(m.text))  # noqa: B023
            page.on("pageerror", lambda e: console.append(str(e)))  # noqa: B023
            if pages is None:
                pages = _discover(page, server)
            for path in pages:
                _check_page(page, server, path, lang, phone, problems, console)
            ctx.close()
    assert pages, "no page reached"
    report = "\n".join(f"{where}\n    " + "\n    ".join(dict.fromkeys(items)) for where, items in problems.items())
    assert not problems, f"{len(problems)} page(s) with problems as {role}:\n{report}"
