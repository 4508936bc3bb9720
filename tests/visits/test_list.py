"""The visits list (/visits/): a chain has tens of thousands of visits, so it shows 50 a page with
"Load more" — the latest day first, then the latest created, those without a day last — and each
visit the user may see once (webapp/visits/operations.py `visits_page`, webapp/core/keyset.py)."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from webapp.extensions import db
from webapp.models import Visit
from webapp.visits import operations as ops

HX = {"HX-Request": "true"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def many(world):
    """Visits of both supervisors: several on one day (some created at the same moment), on other
    days, without a day, and one deleted."""
    made, at = [], datetime(2026, 11, 1, 9, tzinfo=UTC)
    days = [date(2026, 11, 18)] * 5 + [date(2026, 11, 10)] * 3 + [None] * 3 + [date(2026, 12, 1)]
    for n, day in enumerate(days):
        for k, v in enumerate(world["visits"]):
            made.append(Visit(site_id=v.site_id, department_id=v.department_id, template_id=v.template_id,
                              supervisor_id=v.supervisor_id, status="scheduled", scheduled_for=day,
                              created_at=at + timedelta(minutes=(n // 2) * 10 + k)))
    made[0].deleted_at = at
    db.session.add_all(made)
    db.session.commit()
    return world


def _expected(user_id=None):
    rows = db.session.scalars(db.select(Visit).where(Visit.deleted_at.is_(None))).all()
    rows = [v for v in rows if user_id is None or v.supervisor_id == user_id]
    dated = sorted((v for v in rows if v.scheduled_for), key=lambda v: (v.scheduled_for, v.created_at, v.id), reverse=True)
    undated = sorted((v for v in rows if not v.scheduled_for), key=lambda v: (v.created_at, v.id), reverse=True)
    return [v.id for v in dated + undated]


@pytest.mark.parametrize("limit", [1, 3, 7])
@pytest.mark.parametrize("who", ["manager", "sup1"])
def test_its_pages_hold_every_visit_the_user_may_see_once_in_order(many, who, limit):
    user, seen, cursor = many["users"][who], [], None
    for _ in range(100):
        rows, cursor = ops.visits_page(user, cursor, limit)
        seen += [v.id for v in rows]
        if cursor is None:
            break
    assert seen == _expected(None if who == "manager" else user.id)
    assert len(seen) == len(set(seen)) > limit


def test_load_more_through_the_page(many, client, auth, monkeypatch):
    monkeypatch.setattr(ops, "VISITS_PAGE", 4)
    auth.login("manager")
    page = client.get("/visits/", headers=EN).get_data(as_text=True)
    ids = re.findall(r'href="/visits/([0-9a-f-]{36})"', page)
    assert len(ids) == 4 and "Load more" in page
    while (nxt := re.search(r'hx-get="(/visits/\?cursor=[^"]+)"', page)):
        page = client.get(nxt.group(1), headers={**EN, **HX}).get_data(as_text=True)
        assert "<html" not in page and page.count(" autofocus") == 1
        ids += re.findall(r'href="/visits/([0-9a-f-]{36})"', page)
    assert ids == _expected()


@pytest.mark.parametrize("cursor", ["x", "s", "n", "s2026_1", "s20261399_20261101T090000000000_a",
                                    "n=HYPERLINK(\"x\")_1", "s\x00_\x00_\x00", "督导" * 40, "s20261118_" + "f" * 300])
def test_a_cursor_that_does_not_read_is_the_first_page(many, client, auth, cursor):
    auth.login("manager")
    first = client.get("/visits/", headers=EN).get_data(as_text=True)
    for headers in (EN, {**EN, **HX}):
        r = client.get("/visits/", query_string={"cursor": cursor}, headers=headers)
        assert r.status_code == 200
        assert re.findall(r'href="/visits/([0-9a-f-]{36})"', r.get_data(as_text=True)) == \
            re.findall(r'href="/visits/([0-9a-f-]{36})"', first)
