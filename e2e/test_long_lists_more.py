"""Long lists a page at a time, in a browser: the rectification list (60 more rectifications past
their deadline), a plan's page and the visits list (60 more visits) show 50 rows, then "Load more" (htmx) brings the
next ones, the first of them taking the keyboard focus — by keyboard on a desktop in English, by tap
on a phone in zh-CN. Its own server."""

import subprocess
import sys

import pytest
from playwright.sync_api import expect

from e2e.conftest import DESKTOP, PHONE, ROOT, instance_env, serve, signed_in

MANAGER = ("manager", "manager-demo-2026")
EXTRA = 60
ADD_WORK = f"""
from datetime import UTC, date, datetime, timedelta
from sqlalchemy import select
from webapp import create_app
from webapp.extensions import db
from webapp.models import Finding, Rectification, User, Visit
from webapp.plans.models import Plan

app = create_app()
with app.app_context():
    sup = db.session.scalar(select(User).where(User.username == "supervisor"))
    head = db.session.scalar(select(User).where(User.username == "depthead"))
    visit = db.session.scalars(select(Visit).where(Visit.supervisor_id == sup.id).order_by(Visit.scheduled_for)).first()
    plan = db.session.scalars(select(Plan).where(Plan.status == "published", Plan.deleted_at.is_(None))).first()
    for n in range({EXTRA}):
        f = Finding(visit_id=visit.id, site_id=visit.site_id, supervisor_id=sup.id, department_id=visit.department_id,
                    title=f"积压整改 {{n + 1:02d}}", severity="medium", area="process", review_status="confirmed",
                    status="rectifying", captured_at=datetime(2025, 1, 5, 9, tzinfo=UTC) + timedelta(hours=n))
        db.session.add(f)
        db.session.flush()
        # Due in 2025, before the demo's own: the list's first rows, by deadline.
        db.session.add(Rectification(finding_id=f.id, measures="整改", owner="吴敏", deadline=date(2025, 2, 1) + timedelta(days=n),
                                     status="rectifying", round=1, submitted_by=head.id))
        db.session.add(Visit(site_id=visit.site_id, department_id=visit.department_id, template_id=visit.template_id,
                             plan_id=plan.id, supervisor_id=sup.id, status="scheduled",
                             scheduled_for=date(2025, 1, 1) + timedelta(days=n)))
    db.session.commit()
    print(plan.id)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    inst = tmp_path_factory.mktemp("long-lists-instance")
    with serve(inst) as base:
        out = subprocess.run([sys.executable, "-c", ADD_WORK], env=instance_env(inst), cwd=ROOT, check=True,
                             capture_output=True, text=True)
        yield base, out.stdout.strip().splitlines()[-1]


def _more(page, device, link):
    if device is DESKTOP:
        link.focus()
        page.keyboard.press("Enter")
    else:
        link.click()


@pytest.mark.parametrize("lang, device", [("en", DESKTOP), ("zh-CN", PHONE)])
def test_the_rectification_list_loads_more(browser, server, shot, lang, device):
    base, _plan = server
    ctx, page = signed_in(browser, base, *MANAGER, lang, device)
    page.goto(f"{base}/rectification/?status=rectifying")
    links = page.locator("#rectification-rows tr:not(#load-more-row) td:first-child a")
    expect(links).to_have_count(50)
    first = links.all_inner_texts()
    assert first[:2] == ["积压整改 01", "积压整改 02"] and first[49] == "积压整改 50"
    more = page.locator("#load-more-row a")
    expect(more).to_have_text("Load more" if lang == "en" else "加载更多")
    assert "status=rectifying" in more.get_attribute("hx-get")
    _more(page, device, more)
    expect(links.nth(50)).to_be_focused()
    rows = links.all_inner_texts()
    assert rows[:50] == first and rows[50:60] == [f"积压整改 {n}" for n in range(51, 61)]
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(set(hrefs)) == len(hrefs) and page.url.endswith("/rectification/?status=rectifying")  # none twice
    shot(page, f"rectification-more-{lang}")
    ctx.close()


@pytest.mark.parametrize("lang, device", [("en", DESKTOP), ("zh-CN", PHONE)])
def test_a_plans_page_loads_more_visits(browser, server, shot, lang, device):
    base, plan_id = server
    ctx, page = signed_in(browser, base, *MANAGER, lang, device)
    page.goto(f"{base}/plans/{plan_id}")
    links = page.locator("#schedule tbody tr:not(#load-more-visits) td:first-child a")
    expect(links).to_have_count(50)
    dates = page.locator("#schedule tbody td:nth-child(2)")
    assert dates.first.inner_text() == ("Jan 1, 2025" if lang == "en" else "2025年1月1日")
    more = page.locator("#load-more-visits a")
    _more(page, device, more)
    expect(links.nth(50)).to_be_focused()
    assert links.count() >= EXTRA and dates.nth(50).inner_text() == ("Feb 20, 2025" if lang == "en" else "2025年2月20日")
    shot(page, f"plan-visits-more-{lang}")
    ctx.close()


@pytest.mark.parametrize("lang, device", [("en", DESKTOP), ("zh-CN", PHONE)])
def test_the_visits_list_loads_more(browser, server, shot, lang, device):
    base, _plan = server
    ctx, page = signed_in(browser, base, *MANAGER, lang, device)
    page.goto(f"{base}/visits/")
    links = page.locator("#visit-rows tr:not(#load-more-visits) td:first-child a")
    expect(links).to_have_count(50)
    _more(page, device, page.locator("#load-more-visits a"))
    expect(links.nth(50)).to_be_focused()
    for _ in range(20):  # to the end of the list
        if not page.locator("#load-more-visits").count():
            break
        shown = links.count()
        page.locator("#load-more-visits a").click()
        expect(links.nth(shown)).to_be_focused()
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(hrefs) > EXTRA and len(set(hrefs)) == len(hrefs)
    # The latest day first: the 60 visits of 2025 are the oldest, at the end.
    dates = page.locator("#visit-rows tr:not(#load-more-visits) td:nth-child(2)").all_inner_texts()
    assert dates[-1] == ("Jan 1, 2025" if lang == "en" else "2025年1月1日")
    shot(page, f"visits-more-{lang}")
    ctx.close()
