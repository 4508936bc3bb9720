"""The dashboard counted ahead (webapp/results/dashboard/snapshots.py): a snapshot is served with the
time it was counted; a write to anything the dashboard counts makes it stale; the queue counts it
again and the result equals a full recount from the raw rows; a snapshot too old is never served.
The state machine of test_tallies.py checks the same after random writes."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from webapp.authz import COMPANY_WIDE
from webapp.extensions import db
from webapp.jobs import get_huey
from webapp.models import Visit
from webapp.rectification.models import Rectification
from webapp.results.dashboard import measures as m
from webapp.results.dashboard import snapshots as snap
from webapp.results.dashboard.models import DashboardSnapshot, TallyEpoch
from webapp.results.dashboard.operations import build_dashboard
from webapp.results.periods import parse_period

TZ = "Asia/Shanghai"
TODAY = date(2026, 11, 20)
Q3 = parse_period("2026-Q3")


def _raw(period=Q3, department_id=None):
    return build_dashboard(m.Filters(COMPANY_WIDE, department_id=department_id), period, TODAY, TZ, source=m)


def _kpi_findings(html) -> int:
    return int(re.search(r'class="kpi-value" href="[^"]+">(\d+)<', html).group(1))


def _row(key):
    db.session.expire_all()
    return db.session.get(DashboardSnapshot, key)


def _pending(app):
    return [t for t in get_huey(app).pending() if t.name == "dashboard_recount"]


@pytest.mark.parametrize("period, dept", [("2026-Q3", None), ("2026-Q3", "a"), ("2026", None), ("2026-11", "b")])
def test_a_snapshot_reads_back_as_the_figures_it_was_counted_from(app, kpi, period, dept):
    department_id = kpi[dept].id if dept else None
    data, row = snap.count_snapshot(parse_period(period), department_id, None, TODAY, TZ)
    assert snap.decode(row["payload"]) == data == _raw(parse_period(period), department_id)
    if period == "2026-Q3" and dept is None:
        assert data["worse"] and any(w.open_items for w in data["worse"])  # the open items come back whole


def test_the_page_counts_once_then_serves_the_snapshot_with_its_time(client, auth, kpi):
    auth.login(kpi["manager"].username, PASSWORD)
    html = client.get("/results/?period=2026-Q3", headers={"Accept-Language": "en"}).get_data(as_text=True)
    key = snap.snapshot_key(Q3, None, None, TODAY)
    first = _row(key)
    assert first is not None and first.mark == snap.current_mark()
    assert "Figures as of" in html and "up to date" in html and _kpi_findings(html) == 5
    zh = client.get("/results/?period=2026-Q3", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "数据截至" in zh and "已是最新" in zh
    assert _row(key).computed_at == first.computed_at  # served, not counted again


def test_a_write_makes_it_stale_and_the_queue_counts_it_again(app, client, auth, kpi):
    auth.login(kpi["manager"].username, PASSWORD)
    client.get("/results/?period=2026-Q3")
    key = snap.snapshot_key(Q3, None, None, TODAY)
    before = _row(key)
    before_mark, before_payload, before_at = before.mark, before.payload, before.computed_at
    rect = db.session.scalar(select(Rectification).where(Rectification.finding_id == kpi["f"]["f1"].id))
    rect.deadline = date(2026, 7, 1)  # f1 accepted late now
    db.session.commit()
    assert snap.current_mark() != before_mark

    html = client.get("/results/?period=2026-Q3", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Newer records are being counted" in html and 'hx-trigger="load delay:5s"' in html
    assert 'role="status"' in html.split('id="dash-freshness"')[0][-200:] + html.split('id="dash-freshness"')[1][:40]
    assert len(_pending(app)) == 1 and _row(key).requested_at is not None
    client.get("/results/?period=2026-Q3")  # asked already: not asked twice
    assert len(_pending(app)) == 1

    db.session.rollback()
    get_huey(app).execute(_pending(app)[0])
    after = _row(key)
    assert after.mark == snap.current_mark() and after.computed_at >= before_at
    assert snap.decode(after.payload) == _raw() != snap.decode(before_payload)
    html = client.get("/results/?period=2026-Q3", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "up to date" in html and "hx-trigger" not in html.split('id="dash-freshness"')[1].split("</p>")[0]


def test_a_visit_completed_moves_the_mark_plan_completion_counts_it(app, kpi):
    data, row = snap.count_snapshot(Q3, None, None, TODAY, TZ)
    snap.store_snapshot(row)
    db.session.commit()
    missed = db.session.scalar(select(Visit).where(Visit.status == "scheduled", Visit.plan_id.is_not(None)))
    missed.status = "completed"
    db.session.commit()
    assert snap.current_mark() != row["mark"]
    assert _raw()["plans"]["now"].done == data["plans"]["now"].done + 1


def test_a_snapshot_too_old_is_counted_by_the_request(app, client, auth, kpi, pinned_clock):
    """No worker running: past DASHBOARD_MAX_STALE_SECONDS the page counts for itself."""
    auth.login(kpi["manager"].username, PASSWORD)
    assert _kpi_findings(client.get("/results/?period=2026-Q3").get_data(as_text=True)) == 5
    f = kpi["f"]["f2"]
    f.deleted_at = datetime(2026, 11, 20, tzinfo=UTC)
    db.session.commit()
    assert _kpi_findings(client.get("/results/?period=2026-Q3").get_data(as_text=True)) == 5  # as of then
    pinned_clock.shift(timedelta(seconds=app.config["DASHBOARD_MAX_STALE_SECONDS"] + 1))
    html = client.get("/results/?period=2026-Q3").get_data(as_text=True)
    assert _kpi_findings(html) == 4 and "Newer records" not in html


def test_the_queue_unreachable_the_page_still_serves(app, client, auth, kpi, monkeypatch, caplog):
    auth.login(kpi["manager"].username, PASSWORD)
    client.get("/results/?period=2026-Q3")
    rect = db.session.scalar(select(Rectification).where(Rectification.finding_id == kpi["f"]["f3"].id))
    rect.deadline = date(2026, 12, 31)
    db.session.commit()

    def down(*_a, **_k):
        raise ConnectionError("redis down")

    monkeypatch.setitem(get_huey(app).supervision_tasks, "dashboard_recount", down)
    r = client.get("/results/?period=2026-Q3", headers={"Accept-Language": "en"})
    assert r.status_code == 200 and "Newer records are being counted" in r.get_data(as_text=True)
    assert "could not enqueue dashboard_recount" in caplog.text


def test_the_periodic_refresh_prunes_and_counts_ahead(app, kpi, pinned_clock):
    huey = get_huey(app)
    yesterday = snap.count_snapshot(Q3, None, None, TODAY - timedelta(days=1), TZ)[1]
    stale = snap.count_snapshot(parse_period("2026"), None, None, TODAY, TZ)[1]
    unread = snap.count_snapshot(parse_period("2026-10"), None, None, TODAY, TZ)[1]
    unread["read_at"] = datetime.now(UTC) - timedelta(days=2)
    for row in (yesterday, stale, unread):
        snap.store_snapshot(row)
    db.session.commit()
    rect = db.session.scalar(select(Rectification).where(Rectification.finding_id == kpi["f"]["f3"].id))
    rect.deadline = date(2026, 12, 31)  # makes `stale` stale
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(TallyEpoch)) >= 2

    db.session.rollback()
    huey.execute(huey.supervision_tasks["dashboard_refresh"].s())
    db.session.expire_all()
    keys = set(db.session.scalars(select(DashboardSnapshot.key)))
    ahead = {snap.snapshot_key(parse_period(p), None, None, TODAY) for p in ("2026-Q4", "2026-11", "2026")}
    assert stale["key"] in ahead  # the year: counted again, not twice
    assert keys == ahead  # yesterday's and the unread one dropped; this quarter, month and year ahead
    assert _row(stale["key"]).mark == snap.current_mark()
    assert snap.decode(_row(stale["key"]).payload) == _raw(parse_period("2026"))
    assert db.session.scalar(select(func.count()).select_from(TallyEpoch)) == 1  # only the newest kept


def test_the_refresh_is_on_the_queues_schedule(app, pinned_clock):
    huey = get_huey(app)
    pinned_clock.move_to(datetime(2026, 11, 20, 2, 4, 30, tzinfo=UTC))
    assert "dashboard_refresh" not in {t.name for t in huey.read_periodic(huey._get_timestamp())}
    pinned_clock.move_to(datetime(2026, 11, 20, 2, 5, 10, tzinfo=UTC))
    assert "dashboard_refresh" in {t.name for t in huey.read_periodic(huey._get_timestamp())}


def test_a_rebuild_of_the_tallies_makes_every_snapshot_behind(app, kpi):
    """`flask aggregates rebuild` (a bulk load, a changed time zone) writes no finding: it still moves
    the mark, so no snapshot counted before it is served as up to date."""
    from webapp.results.dashboard import tallies

    _data, row = snap.count_snapshot(Q3, None, None, TODAY, TZ)
    snap.store_snapshot(row)
    db.session.commit()
    tallies.rebuild(TZ)
    db.session.commit()
    assert snap.current_mark() != row["mark"]
