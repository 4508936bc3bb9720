"""The phone scope of a pull (docs/sync-protocol.md, "Phone scope"): what a fresh phone of each role
pulls, that a record entering or leaving the window later still reaches the phone, and the records
fetched on demand (GET /api/v1/sync/records, /api/v1/sync/older) under the one rulebook."""

import gzip
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from webapp.extensions import db
from webapp.rectification.models import RectificationUpdate
from webapp.sync_store.phone_scope import RECENT_DAYS
from webapp.visits.models import Metric, Visit


@pytest.fixture
def history(world, create_visit, create_finding):
    """Beside the world's planned visits: an old completed visit of sup1 (a figure, a closed and an
    open finding) and a recently completed one (a closed finding)."""
    s1 = world["sites"][0]
    sup1 = world["users"]["sup1"]
    now = datetime.now(UTC)
    old = create_visit(s1, sup1, status="completed")
    old.completed_at = now - timedelta(days=RECENT_DAYS + 110)
    old.scheduled_for = date.today() - timedelta(days=RECENT_DAYS + 110)
    recent = create_visit(s1, sup1, status="completed")
    recent.completed_at = now - timedelta(days=10)
    metric = Metric(visit_id=old.id, kind="business", name="客流", value=120)
    db.session.add(metric)
    db.session.commit()
    old_closed = create_finding(old, "旧的已关闭", status="closed")
    old_open = create_finding(old, "旧的未关闭", status="rectifying")
    recent_closed = create_finding(recent, "近期已关闭", status="closed")
    update = RectificationUpdate(finding_id=old_closed.id, note="已整改", progress=100,
                                 author_id=world["users"]["head1"].id)
    db.session.add(update)
    db.session.commit()
    return {"old": old, "recent": recent, "metric": metric, "old_closed": old_closed, "old_open": old_open,
            "recent_closed": recent_closed, "update": update}


def phone_pull(dev, cursor=None, horizon=None, limit=3, **extra):
    """A phone's pull to the end: its changes by (entity, id), the cursor and the horizon."""
    changes = {}
    while True:
        params = {"scope": "phone", "limit": limit, **extra}
        if cursor is not None:
            params["cursor"] = cursor
        if horizon is not None:
            params["horizon"] = horizon
        r = dev.get("/api/v1/sync/pull", query_string=params)
        assert r.status_code == 200, r.get_data(as_text=True)
        page = r.get_json()
        for c in page["changes"]:
            changes[(c["entity"], c["id"])] = c
        cursor, horizon = page["cursor"], page.get("horizon", horizon)
        if not page["more"]:
            return changes, cursor, horizon


def ids(changes, entity):
    return {rid for (e, rid), c in changes.items() if e == entity and not c["deleted"]}


def test_a_managers_phone_gets_reference_data_open_work_and_the_recent_period(world, history, device):
    changes, _cursor, horizon = phone_pull(device(world["users"]["manager"]))
    assert horizon
    v1, v2 = world["visits"]
    assert ids(changes, "visit") == {v1.id, v2.id, history["recent"].id}  # planned, and done lately
    assert ids(changes, "finding") == {f.id for f in world["findings"]} | {
        history["old_open"].id, history["recent_closed"].id}  # open anywhere, closed only when recent
    assert ids(changes, "metric") == set() and ids(changes, "rectification_update") == set()
    assert ids(changes, "site") == {s.id for s in world["sites"]}
    assert ids(changes, "department") >= {d.id for d in world["depts"]}
    assert ids(changes, "template")


def test_a_department_heads_phone_gets_its_departments_window(world, history, device):
    changes, _cursor, _horizon = phone_pull(device(world["users"]["head1"]))
    assert ids(changes, "visit") == {world["visits"][0].id, history["recent"].id}
    assert ids(changes, "finding") == {world["findings"][0].id, history["old_open"].id, history["recent_closed"].id}
    changes2, _c, _h = phone_pull(device(world["users"]["head2"]))
    assert ids(changes2, "visit") == {world["visits"][1].id}
    assert ids(changes2, "finding") == {world["findings"][1].id}


def test_a_supervisors_phone_and_an_api_client_get_the_whole_scope(world, history, device):
    sup_changes, _cursor, horizon = phone_pull(device(world["users"]["sup1"]))
    assert horizon is None  # no window for a supervisor
    assert ids(sup_changes, "visit") == {world["visits"][0].id, history["old"].id, history["recent"].id}
    assert history["metric"].id in ids(sup_changes, "metric")
    assert {history["old_closed"].id, history["old_open"].id} <= ids(sup_changes, "finding")
    full, _cursor = device(world["users"]["manager"]).pull_all()
    assert {history["old"].id, history["metric"].id, history["old_closed"].id, history["update"].id} <= {
        c["id"] for c in full}


def test_a_reopened_visit_reaches_the_phone_with_everything_inside(world, history, device):
    phone = device(world["users"]["manager"])
    _first, cursor, horizon = phone_pull(phone)
    old = db.session.get(Visit, history["old"].id)
    old.status = "in_progress"  # reopened to add a late record
    db.session.commit()
    changes, _cursor, _h = phone_pull(phone, cursor, horizon)
    assert ids(changes, "visit") == {old.id}
    assert ids(changes, "metric") == {history["metric"].id}
    assert {history["old_closed"].id, history["old_open"].id} <= ids(changes, "finding")
    assert ids(changes, "rectification_update") == {history["update"].id}


def test_a_reopened_finding_reaches_the_phone_with_its_progress(world, history, device):
    phone = device(world["users"]["head1"])
    _first, cursor, horizon = phone_pull(phone)
    finding = history["old_closed"]
    db.session.refresh(finding)
    finding.status = "rectifying"
    db.session.commit()
    changes, _cursor, _h = phone_pull(phone, cursor, horizon)
    assert ids(changes, "finding") == {finding.id}
    assert ids(changes, "rectification_update") == {history["update"].id}


def test_a_record_leaving_the_window_still_brings_its_last_change(world, history, device):
    phone = device(world["users"]["manager"])
    first, cursor, horizon = phone_pull(phone)
    finding = history["old_open"]
    assert first[("finding", finding.id)]["data"]["status"] == "rectifying"
    db.session.refresh(finding)
    finding.status = "closed"  # now out of the window: the phone must not keep it open
    db.session.commit()
    changes, _cursor, _h = phone_pull(phone, cursor, horizon)
    assert changes[("finding", finding.id)]["data"]["status"] == "closed"


def test_changes_during_the_first_pull_arrive_whatever_the_window(world, history, device):
    phone = device(world["users"]["manager"])
    r = phone.get("/api/v1/sync/pull", query_string={"scope": "phone", "limit": 2})
    page = r.get_json()
    assert page["more"] and page["horizon"] and page["since"]
    finding = history["old_closed"]  # outside the window, changed while the phone pages
    db.session.refresh(finding)
    finding.title = "改了标题"
    db.session.commit()
    changes, _cursor, _h = phone_pull(phone, page["cursor"], page["horizon"])
    assert changes[("finding", finding.id)]["data"]["title"] == "改了标题"
    assert ("metric", history["metric"].id) not in changes


def test_a_phone_that_began_before_phone_scopes_keeps_getting_every_change(world, history, device):
    phone = device(world["users"]["manager"])
    _changes, cursor = phone.pull_all()
    history["metric"].note = "补充"
    db.session.commit()
    changes, _cursor, horizon = phone_pull(phone, cursor)  # a cursor and no horizon: no window
    assert horizon is None and ("metric", history["metric"].id) in changes


# ---- records on demand ---------------------------------------------------------------------------

@pytest.mark.parametrize("who,visible", [("manager", True), ("admin", True), ("sup1", True), ("head1", True),
                                         ("sup2", False), ("head2", False), ("staff1", False)])
def test_a_record_on_demand_follows_the_scope(world, history, device, who, visible):
    dev = device(world["users"][who])
    r = dev.get("/api/v1/sync/records", query_string={"entity": "finding", "id": history["old_closed"].id})
    if visible:
        assert r.status_code == 200
        change = r.get_json()["change"]
        assert change["id"] == history["old_closed"].id and change["data"]["title"] == "旧的已关闭"
        assert change["version"] == history["old_closed"].version
    else:
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_a_missing_record_is_a_404_like_one_out_of_scope(world, device):
    r = device(world["users"]["manager"]).get("/api/v1/sync/records", query_string={
        "entity": "visit", "id": "00000000-0000-4000-8000-000000000000"})
    assert r.status_code == 404


def test_older_visits_come_with_what_is_inside_them(world, history, device):
    since = (date.today() - timedelta(days=RECENT_DAYS)).isoformat()
    r = device(world["users"]["manager"]).get("/api/v1/sync/older", query_string={"before": since})
    assert r.status_code == 200
    body = r.get_json()
    got = {(c["entity"], c["id"]) for c in body["changes"]}
    assert got == {("visit", history["old"].id), ("metric", history["metric"].id),
                   ("finding", history["old_closed"].id), ("finding", history["old_open"].id),
                   ("rectification_update", history["update"].id)}
    assert body["more"] is False and body["next"] is None
    # Another department's head: nothing of department 1.
    r2 = device(world["users"]["head2"]).get("/api/v1/sync/older", query_string={"before": since})
    assert r2.get_json()["changes"] == []


def test_older_visits_page_by_date_and_id(world, history, device, create_visit):
    s1, sup1 = world["sites"][0], world["users"]["sup1"]
    day = date.today() - timedelta(days=300)
    made = []
    for _ in range(3):
        v = create_visit(s1, sup1, status="completed")
        v.scheduled_for = day
        made.append(v.id)
    db.session.commit()
    dev = device(world["users"]["manager"])
    seen, params = [], {"before": (day + timedelta(days=1)).isoformat(), "limit": 2, "site_id": s1.id}
    while True:
        body = dev.get("/api/v1/sync/older", query_string=params).get_json()
        seen += [c["id"] for c in body["changes"] if c["entity"] == "visit"]
        if not body["more"]:
            break
        params.update(body["next"])
    assert sorted(seen) == sorted(made) and len(seen) == 3  # ties on one day: none lost, none twice


@pytest.mark.parametrize("url,params,field", [
    ("/api/v1/sync/pull", {"encoding": "xml"}, "encoding"),
    ("/api/v1/sync/pull", {"scope": "everything"}, "scope"),
    ("/api/v1/sync/pull", {"scope": "phone", "horizon": "-1"}, "horizon"),
    ("/api/v1/sync/records", {"entity": "template", "id": "00000000-0000-4000-8000-000000000000"}, "entity"),
    ("/api/v1/sync/records", {"entity": "finding", "id": "42"}, "id"),
    ("/api/v1/sync/records", {"id": "00000000-0000-4000-8000-000000000000"}, "entity"),
    ("/api/v1/sync/older", {"before": "yesterday"}, "before"),
    ("/api/v1/sync/older", {"limit": "0"}, "limit"),
])
def test_bad_parameters_are_a_400_in_the_users_language(world, device, url, params, field):
    dev = device(world["users"]["manager"])
    r = dev.get(url, query_string=params, headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"] + "".join(error["fields"][field]))


def test_pull_pages_are_gzip_compressed_when_the_client_accepts_it(world, history, device):
    dev = device(world["users"]["manager"])
    plain = dev.get("/api/v1/sync/pull", query_string={"limit": 50})
    packed = dev.get("/api/v1/sync/pull", query_string={"limit": 50}, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert json.loads(gzip.decompress(packed.get_data())) == plain.get_json()
    assert len(packed.get_data()) < len(plain.get_data()) / 3
