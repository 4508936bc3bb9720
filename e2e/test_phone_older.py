"""A manager's phone pulls its phone scope (open work and the last 90 days), not the demo's six months
of history; "Load older visits" fetches older ones when online and says why it cannot offline
(docs/sync-protocol.md "Phone scope", docs/phone.md)."""

from e2e.conftest import PHONE
from e2e.phone import open_app, snap, wait_synced, wait_until

MANAGER = ("manager", "manager-demo-2026")


def _visits_on_phone(page) -> dict:
    return page.evaluate("""async () => {
      const d = await new Promise((ok, fail) => { const r = indexedDB.open("supervision"); r.onsuccess = () => ok(r.result); r.onerror = fail; });
      const rows = await new Promise((ok) => { const r = d.transaction("records").objectStore("records").index("entity").getAll("visit"); r.onsuccess = () => ok(r.result); });
      const meta = await new Promise((ok) => { const r = d.transaction("meta").objectStore("meta").get("since"); r.onsuccess = () => ok(r.result); });
      return { since: meta, days: rows.filter((v) => !v.older && v.data.status === "completed").map((v) => (v.data.completed_at || v.data.scheduled_for).slice(0, 10)),
               older: rows.filter((v) => v.older).length };
    }""")


def _tap_until(page, button, text, timeout=30000):
    """Tap "Load older visits" and wait for the card's status to say `text`; what the card showed
    is in the failure."""
    button.click()
    status = page.locator(".m-older [role=status]", has_text=text)
    try:
        status.wait_for(timeout=timeout)
    except Exception as e:
        shown = page.evaluate("""() => ({ card: document.querySelector('.m-older')?.outerHTML ?? null,
          online: navigator.onLine, sync: document.body.dataset.sync ?? null })""")
        raise AssertionError(f"the card never said {text!r}: {shown}") from e


def test_a_managers_phone_pulls_its_window_and_loads_older_visits(browser, server, shot):
    ctx = browser.new_context(locale="zh-CN", **PHONE)
    page = ctx.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "INTERNET_DISCONNECTED" not in m.text else None)
    open_app(page, server, *MANAGER)
    first = _visits_on_phone(page)
    assert first["since"] and first["older"] == 0
    # The completed visits on the phone are the recent period's only.
    assert first["days"] and min(first["days"]) >= first["since"]

    button = page.locator("#load-older")
    button.wait_for()
    # Offline: the card says it needs the network; nothing is fetched.
    ctx.set_offline(True)
    wait_until(page, "navigator.onLine === false")
    _tap_until(page, button, "联网")
    ctx.set_offline(False)
    wait_until(page, "navigator.onLine === true")
    wait_synced(page)  # back online the phone syncs (and draws the page again)
    _tap_until(page, button, "已加载")
    after = _visits_on_phone(page)
    assert after["older"] > 0
    assert page.locator(".m-older .m-list li").count() == after["older"]
    snap(shot, page, "phone-older-visits-zh-CN")
    # An older visit opens like any other.
    page.locator(".m-older .m-list a").first.click()
    page.wait_for_url("**/m/visit/*")
    assert not errors, errors
    ctx.close()
