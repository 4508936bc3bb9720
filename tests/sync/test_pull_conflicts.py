"""Pull (cursor, scope per role, paging, reference data) and conflicts (list, resolve)."""

import pytest
from sqlalchemy import select

from tests.sync.conftest import new_id
from webapp.extensions import db
from webapp.models import Finding, Revision


@pytest.fixture
def devs(world, device):
    u = world["users"]
    return {name: device(u[name]) for name in ("sup1", "sup2", "manager", "admin", "head1", "head2", "staff1")}


def _ids(changes, entity=None):
    return {c["id"] for c in changes if entity is None or c["entity"] == entity}


@pytest.mark.parametrize("who, sees_f1, sees_f2", [
    ("sup1", True, False), ("sup2", False, True), ("head1", True, False), ("head2", False, True),
    ("manager", True, True), ("admin", True, True),
    ("staff1", True, False),  # named responsible on f1: what the desk shows them, the phone pulls
])
def test_pull_scope_per_role(world, devs, who, sees_f1, sees_f2):
    f1, f2 = world["findings"]
    f1_id, f2_id = f1.id, f2.id
    site_ids = {s.id for s in world["sites"]}
    changes, _ = devs[who].pull_all()
    got = _ids(changes, "finding")
    assert (f1_id in got, f2_id in got) == (sees_f1, sees_f2)
    assert site_ids <= _ids(changes, "site")  # reference data for everyone
    assert _ids(changes, "template") and _ids(changes, "department")


def test_pull_pages_oldest_first_and_cursor_moves(world, devs):
    d = devs["manager"]
    full, cursor = d.pull_all()
    page = d.pull(limit=3)
    assert len(page["changes"]) == 3 and page["more"] is True
    rest, _ = d.pull_all(page["cursor"])
    assert [c["id"] for c in page["changes"] + rest] == [c["id"] for c in full]
    # a change moves the record to the end of the sequence
    f1 = world["findings"][0]
    f1.title = "改过"
    db.session.commit()
    changes, _ = d.pull_all(cursor)
    assert [(c["id"], c["version"]) for c in changes] == [(f1.id, 2)]


def test_pull_bad_arguments_are_json_400(world, devs):
    for qs in ("cursor=abc", "limit=0", "cursor=-1"):
        r = devs["sup1"].get("/api/v1/sync/pull?" + qs)
        assert r.status_code == 400 and r.is_json and "fields" in r.get_json()["error"]
    assert devs["sup1"].client.get("/api/v1/sync/pull").status_code == 401


def test_pull_limit_is_capped(app, world, devs):
    app.config["SYNC_PULL_MAX_LIMIT"] = 2
    assert len(devs["manager"].pull(limit=1000)["changes"]) == 2


def _conflict(world, devs):
    fid = new_id()
    sup = devs["sup1"]
    sup.push_one("finding", fid, {"visit_id": world["visits"][0].id, "title": "原", "severity": "low"})
    devs["manager"].push_one("finding", fid, {"title": "经理"}, base_version=1)
    res = sup.push_one("finding", fid, {"title": "督导"}, base_version=1)
    assert res["status"] == "conflict"
    return fid, res["conflicts"][0]["id"]


def test_list_conflicts_by_scope(world, devs):
    fid, cid = _conflict(world, devs)
    for who, visible in (("manager", True), ("sup1", True), ("head1", True), ("sup2", False), ("head2", False)):
        body = devs[who].get("/api/v1/conflicts").get_json()
        assert (cid in [c["id"] for c in body["conflicts"]]) == visible, who
    [c] = devs["manager"].get(f"/api/v1/conflicts?record_id={fid}").get_json()["conflicts"]
    assert (c["field"], c["server"], c["client"], c["base"], c["status"]) == ("title", "经理", "督导", "原", "open")
    assert c["device_id"] == devs["sup1"].device_id and c["client_time"]


@pytest.mark.parametrize("choice, value, expected", [
    ("server", None, "经理"), ("client", None, "督导"), ("value", "合并后的标题", "合并后的标题")])
def test_resolve_makes_a_new_version_everyone_pulls(world, devs, choice, value, expected):
    fid, cid = _conflict(world, devs)
    _, cursor = devs["sup1"].pull_all()
    r = devs["manager"].post(f"/api/v1/conflicts/{cid}/resolve", json={"choice": choice, "value": value})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["conflict"]["status"] == "resolved" and body["record"]["data"]["title"] == expected
    assert body["record"]["has_conflict"] is False
    changes, _ = devs["sup1"].pull_all(cursor)
    [mine] = [c for c in changes if c["id"] == fid]
    assert mine["data"]["title"] == expected and mine["has_conflict"] is False
    kinds = db.session.scalars(select(Revision.kind).where(Revision.record_id == fid)
                               .order_by(Revision.id)).all()
    assert kinds[-1] == "resolution" and "conflict" in kinds  # nothing deleted: both sides in history
    again = devs["manager"].post(f"/api/v1/conflicts/{cid}/resolve", json={"choice": "server"})
    assert again.status_code == 409


def test_resolve_rules(world, devs):
    fid, cid = _conflict(world, devs)
    assert devs["sup1"].post(f"/api/v1/conflicts/{cid}/resolve", json={"choice": "client"}).status_code == 403
    assert devs["sup2"].post(f"/api/v1/conflicts/{cid}/resolve", json={"choice": "client"}).status_code == 404
    assert devs["manager"].post("/api/v1/conflicts/999999/resolve", json={"choice": "client"}).status_code == 404
    r = devs["manager"].post(f"/api/v1/conflicts/{cid}/resolve", json={"choice": "maybe"})
    assert r.status_code == 400 and "choice" in r.get_json()["error"]["fields"]
    r = devs["manager"].post(f"/api/v1/conflicts/{cid}/resolve", json={"choice": "value", "value": "x" * 500})
    assert r.status_code == 400 and "value" in r.get_json()["error"]["fields"]
    assert db.session.get(Finding, fid).has_conflict is True


def test_resolving_a_delete_conflict(world, devs):
    fid = new_id()
    devs["sup1"].push_one("finding", fid, {"visit_id": world["visits"][0].id, "title": "原"})
    devs["manager"].push_one("finding", fid, {"title": "经理"}, base_version=1)
    res = devs["sup1"].push_one("finding", fid, op="delete", base_version=1)
    cid = res["conflicts"][0]["id"]
    r = devs["manager"].post(f"/api/v1/conflicts/{cid}/resolve", json={"choice": "client"})
    assert r.status_code == 200 and r.get_json()["record"]["deleted"] is True
