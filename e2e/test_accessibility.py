"""WCAG 2.x A/AA as axe-core checks it (contrast, names, labels, label in name, ARIA, landmarks…) on the
pages each role opens, in zh-CN and en, on a desktop and on a phone: no violation at all.

axe-core is pinned in e2e/axe (package.json, package-lock.json), installed by `npm ci` on first use —
never served to users, never in static/. It is run through the DevTools protocol (`page.evaluate`),
which the pages' Content-Security-Policy does not apply to."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from e2e.conftest import DESKTOP, PHONE, signed_in
from e2e.phone import open_app, show_phone_language
from e2e.test_phone_faster_visit import PHONE_390, _start_adhoc

HERE = Path(__file__).parent / "axe"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

# (role, username, password, device, pages). A page given as (list, pattern) is also followed to the
# first link on it whose address matches the pattern: a record's own page.
ROLES = [
    ("manager", "manager", "manager-demo-2026", DESKTOP, [
        "/", ("/findings/", rf"^/findings/{UUID}$"), "/findings/review", ("/visits/", rf"^/visits/{UUID}$"),
        ("/plans/", rf"^/plans/{UUID}$"), ("/reports/", rf"^/reports/{UUID}$"),
        ("/rectification/", rf"^/rectification/{UUID}$"), "/conflicts/", "/results/dashboard",
        "/results/warnings/", "/training/", "/points/", "/supervisors/", "/evaluation/", "/policy/",
        "/account/", "/exports/"]),
    ("admin", "admin", "admin-demo-2026", DESKTOP, [
        "/admin/", "/admin/users", "/admin/users/new", "/admin/org", "/admin/channels", "/admin/import",
        "/admin/audit", "/checklists/"]),
    ("department head", "depthead", "depthead-demo-2026", DESKTOP, ["/", "/rectification/", "/findings/"]),
    ("supervisor", "supervisor", "supervisor-demo-2026", PHONE, [
        "/", ("/findings/", rf"^/findings/{UUID}$"), "/visits/", "/plans/", "/more", "/m/"]),
    ("manager", "manager", "manager-demo-2026", PHONE, ["/", "/findings/review", "/results/dashboard", "/more"]),
]


@pytest.fixture(scope="session")
def axe_source() -> str:
    script = HERE / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            if os.environ.get("CI") == "true":
                pytest.fail("npm is needed for the accessibility check (e2e/axe) and is required under CI")
            pytest.skip("npm is needed for the accessibility check (e2e/axe)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, capture_output=True, timeout=300)
    return script.read_text()


def _violations(page, axe_source: str) -> list[str]:
    page.evaluate(axe_source)
    return page.evaluate("""(tags) => axe.run(document, {runOnly: {type: "tag", values: tags}}).then((r) =>
        r.violations.map((v) => v.id + " (" + v.impact + "): " + v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")))""",
                         TAGS)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("role,username,password,device,pages", ROLES,
                         ids=[f"{r[0]}-{'phone' if r[3] is PHONE else 'desktop'}" for r in ROLES])
def test_no_accessibility_violations(browser, server, axe_source, lang, role, username, password, device, pages):
    ctx, page = signed_in(browser, server, username, password, lang, device)
    problems = []

    def check(url):
        page.goto(server + url)
        # Server-rendered pages are whole at "load"; the phone app renders from its own scripts.
        page.wait_for_load_state("networkidle" if url.startswith("/m/") else "load")
        problems.extend(f"{url}: {v}" for v in _violations(page, axe_source))

    for entry in pages:
        path, follow = entry if isinstance(entry, tuple) else (entry, None)
        check(path)
        if follow:
            hrefs = page.eval_on_selector_all("a[href]", "els => els.map((a) => a.getAttribute('href'))")
            record = next((h for h in hrefs if re.match(follow, h)), None)
            assert record, f"{path}: no link to a record's page ({follow}) to check"
            check(record)
    ctx.close()
    assert not problems, "\n".join(problems)

@pytest.mark.parametrize("lang,site,start,record", [("zh-CN", "徐汇门店", "开始", "记录问题"),
                                                    ("en", "Xuhui Store", "Start", "Record finding")])
def test_no_accessibility_violations_in_the_phone_app(browser, server, axe_source, lang, site, start, record):
    """The supervisor's offline app on a 390 px phone: its home, a visit's checklist and the finding form."""
    ctx = browser.new_context(locale=lang, **PHONE_390)
    page = ctx.new_page()
    open_app(page, server)
    show_phone_language(page, lang)
    problems = [f"home: {v}" for v in _violations(page, axe_source)]
    _start_adhoc(page, site, start)  # a visit of its own: the demo's stay as the other tests expect
    page.wait_for_selector("article.m-item")
    problems += [f"checklist: {v}" for v in _violations(page, axe_source)]
    item = page.locator("article.m-item").nth(1)
    item.locator(".m-res-fail").click()
    item.get_by_role("button", name=record).click()
    page.wait_for_url("**/m/finding/**")
    page.wait_for_selector("body[data-ready]")
    problems += [f"finding form: {v}" for v in _violations(page, axe_source)]
    ctx.close()
    assert not problems, "\n".join(problems)
