"""A new version of the app arrives while the phone holds unsynced work: nothing is lost."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e.conftest import PHONE
from e2e.phone import Deployment, open_app, photo_file, snap, unsynced, wait_synced, wait_until


@pytest.fixture
def deployment(tmp_path):
    dep = Deployment(tmp_path)
    dep.seed()
    yield dep
    dep.stop()


def test_service_worker_update_with_queued_items_loses_nothing(browser, deployment, shot):
    deployment.start(build="1")
    base = deployment.base
    ctx = browser.new_context(locale="en", **PHONE)
    page = ctx.new_page()
    open_app(page, base)
    old_caches = page.evaluate("caches.keys()")
    assert len(old_caches) == 1 and old_caches[0].startswith("supervision-shell-")

    # Offline: record a finding with a photo at the in-progress visit.
    ctx.set_offline(True)
    page.locator(".m-row").first.click()
    page.get_by_role("link", name="Findings").click()
    page.get_by_role("button", name="New finding").click()
    page.get_by_label("Title").fill("Fire exit blocked by boxes")
    page.get_by_label("Title").blur()
    page.locator("input[type=file]").set_input_files(photo_file("update-test"))
    expect(page.locator(".m-photos img")).to_have_count(1)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/findings")
    queued = unsynced(page)
    assert queued == 2  # the finding and its photo

    # Signing out now would strand them: refused, with the reason.
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#b-logout")).to_contain_text("2 items are not synced yet")
    assert "/m/" in page.url

    # ...but they can be exported as a file the server imports (POST /api/v1/sync/import).
    with page.expect_download() as dl:
        page.get_by_role("button", name="Export unsynced data").click()
    exported = json.loads(Path(dl.value.path()).read_text())
    assert exported["format"] == "supervision-unsynced-v1"
    assert [m["data"]["title"] for m in exported["mutations"]] == ["Fire exit blocked by boxes"]
    assert [p["sha256"] for p in exported["photos"]] == exported["mutations"][0]["data"]["photos"]

    # A new version is deployed. The phone is back online but the sync API is unreachable, so the
    # items stay queued while the update happens.
    deployment.stop()
    deployment.start(build="2")
    ctx.route("**/api/v1/**", lambda route: route.abort())
    ctx.set_offline(False)
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    page.locator("#update-now").wait_for(timeout=20000)
    snap(shot, page, "phone-update-ready-en")
    assert unsynced(page) == queued
    with page.expect_navigation():  # the new worker takes over and the page reloads itself
        page.locator("#update-now").click()
    page.wait_for_selector("body[data-ready]")
    wait_until(page, "caches.keys().then(k => k.length === 1)")
    new_caches = page.evaluate("caches.keys()")
    assert new_caches != old_caches  # the old shell cache was replaced, not added to
    expect(page.get_by_text("Fire exit blocked by boxes")).to_be_visible()
    assert unsynced(page) == queued
    snap(shot, page, "phone-update-applied-en")

    # The new shell works offline too, and the queued items sync afterwards.
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-ready]")
    expect(page.get_by_text("Fire exit blocked by boxes")).to_be_visible()
    ctx.set_offline(False)
    ctx.unroute("**/api/v1/**")
    page.locator("#sync-now").click()
    wait_synced(page)
    # Every page of the pull (the demo history is more than one page).
    titles = page.evaluate("""async () => {
        let out = [], cursor = 0, more = true;
        while (more) {
            const r = await (await fetch('/api/v1/sync/pull?limit=500' + (cursor ? '&cursor=' + cursor : ''))).json();
            out = out.concat(r.changes.filter(c => c.entity === 'finding').map(c => [c.data.title, c.data.photos.length]));
            cursor = r.cursor;
            more = r.more;
        }
        return out;
    }""")
    assert ["Fire exit blocked by boxes", 1] in titles
    ctx.close()
