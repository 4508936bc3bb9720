"""A review queue longer than a page, in a browser: the oldest 50 findings awaiting review, then "Load
more" (htmx) brings the rest under the same filters, by mouse on a desktop and by keyboard; on a phone,
in zh-CN, the same. Its own server: 60 more findings await review there."""

import subprocess
import sys

import pytest
from playwright.sync_api import expect

from e2e.conftest import DESKTOP, PHONE, ROOT, instance_env, serve, signed_in

MANAGER = ("manager", "manager-demo-2026")
EXTRA = 60
ADD_FINDINGS = f"""
from datetime import UTC, datetime, timedelta
from sqlalchemy import select
from webapp import create_app
from webapp.extensions import db
from webapp.models import Finding, User, Visit

app = create_app()
with app.app_context():
    sup = db.session.scalar(select(User).where(User.username == "supervisor"))
    visit = db.session.scalars(select(Visit).where(Visit.supervisor_id == sup.id).order_by(Visit.scheduled_for)).first()
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # older than the demo's: the queue's first rows
    for n in range({EXTRA}):
        db.session.add(Finding(visit_id=visit.id, site_id=visit.site_id, supervisor_id=sup.id,
                               department_id=visit.department_id, title=f"积压问题 {{n + 1:02d}}", severity="medium",
                               area="process", review_status="pending", captured_at=start + timedelta(hours=n)))
    db.session.commit()
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    inst = tmp_path_factory.mktemp("review-more-instance")
    with serve(inst) as base:
        subprocess.run([sys.executable, "-c", ADD_FINDINGS], env=instance_env(inst), cwd=ROOT, check=True)
        yield base


def _titles(page):
    return page.locator("#rq-rows a.review-link").all_inner_texts()


@pytest.mark.parametrize("lang, device", [("en", DESKTOP), ("zh-CN", PHONE)])
def test_the_queue_loads_more_under_the_same_filters(browser, server, shot, lang, device):
    ctx, page = signed_in(browser, server, *MANAGER, lang, device)
    page.goto(f"{server}/findings/review")
    expect(page.locator("#rq-rows a.review-link")).to_have_count(50)
    titles = _titles(page)
    assert titles[:3] == ["积压问题 01", "积压问题 02", "积压问题 03"] and titles[49] == "积压问题 50"
    awaiting = page.locator("#rq-awaiting").inner_text()
    more = page.locator("#rq-more a")
    expect(more).to_have_text("Load more" if lang == "en" else "加载更多")
    if device is DESKTOP:
        more.focus()
        page.keyboard.press("Enter")
    else:
        more.click()
    expect(page.locator("#rq-more")).to_have_count(0)
    # The link that had the focus is gone: the first row it brought has it, so Tab goes on from there.
    expect(page.locator("#rq-rows a.review-link").nth(50)).to_be_focused()
    rows = _titles(page)
    assert rows[:50] == titles and rows[50:60] == [f"积压问题 {n}" for n in range(51, 61)]
    assert len(rows) > EXTRA and len(set(rows)) == len(rows)  # the demo's own after them, none twice
    assert page.locator("#rq-awaiting").inner_text() == awaiting  # the count and the page stay
    assert page.url == f"{server}/findings/review"
    shot(page, f"review-queue-more-{lang}")
    # A filter holds across pages: the first row's site, chosen in the form.
    site = page.locator("#rq-rows tr").first.locator("td").nth(2).inner_text()
    page.locator("#rq-site").select_option(label=site)
    page.locator("form.review-filters button[type=submit]").click()
    expect(page.locator("#rq-rows a.review-link")).to_have_count(50)
    assert "site_id=" in page.locator("#rq-more a").get_attribute("hx-get")
    page.locator("#rq-more a").click()
    expect(page.locator("#rq-more")).to_have_count(0)
    sites = page.locator("#rq-rows tr td:nth-child(3)").all_inner_texts()
    assert len(sites) >= EXTRA and set(sites) == {site}
    ctx.close()


def test_the_findings_list_hands_the_focus_to_the_rows_it_loads(browser, server):
    ctx, page = signed_in(browser, server, *MANAGER, "en", DESKTOP)
    page.goto(f"{server}/findings/")
    expect(page.locator("#finding-rows a.finding-link")).to_have_count(50)
    page.locator("#load-more-row a").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#finding-rows a.finding-link").nth(50)).to_be_focused()
    ctx.close()
