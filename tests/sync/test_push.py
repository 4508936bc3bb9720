"""Push: every status of sync-protocol.md, idempotency, merge per field, permissions."""

import hashlib
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.sync.conftest import new_id
from webapp.extensions import db
from webapp.models import AppliedMutation, Conflict, Finding, Photo, Revision, Visit
from webapp.rectification.operations import submit_plan
from webapp.sync_store.operations import parse_mutation
from webapp.sync_store.policy import make_engine


@pytest.fixture
def devs(world, device):
    u = world["users"]
    return {name: device(u[name]) for name in ("sup1", "sup2", "manager", "head1", "head2", "staff1")}


def _finding(devs, world, **data):
    fid = new_id()
    payload = {"visit_id": world["visits"][0].id, "title": "原标题", "severity": "medium", **data}
    res = devs["sup1"].push_one("finding", fid, payload)
    assert res["status"] == "applied", res
    return fid


def test_applied_then_field_edit(world, devs):
    fid = _finding(devs, world)
    res = devs["sup1"].push_one("finding", fid, {"title": "新标题"}, base_version=1)
    assert (res["status"], res["version"], res["conflicts"], res["errors"]) == ("applied", 2, [], {})
    assert db.session.get(Finding, fid).title == "新标题"


def test_merged_keeps_fields_others_changed(world, devs):
    fid = _finding(devs, world)
    assert devs["manager"].push_one("finding", fid, {"severity": "critical"}, base_version=1)["status"] == "applied"
    res = devs["sup1"].push_one("finding", fid, {"title": "补充描述"}, base_version=1)
    assert res["status"] == "merged" and res["version"] == 3
    f = db.session.get(Finding, fid)
    assert (f.title, f.severity, f.has_conflict) == ("补充描述", "critical", False)


def test_conflict_keeps_server_value_and_records_client(world, devs):
    fid = _finding(devs, world)
    devs["manager"].push_one("finding", fid, {"title": "经理的标题"}, base_version=1)
    res = devs["sup1"].push_one("finding", fid, {"title": "督导的标题", "impact": "全店"}, base_version=1)
    assert res["status"] == "conflict"
    [c] = res["conflicts"]
    assert (c["field"], c["server"], c["client"], c["base"]) == ("title", "经理的标题", "督导的标题", "原标题")
    f = db.session.get(Finding, fid)
    assert (f.title, f.impact, f.has_conflict) == ("经理的标题", "全店", True)
    row = db.session.scalars(select(Conflict)).one()
    assert row.status == "open" and row.device_id == devs["sup1"].device_id
    kinds = db.session.scalars(select(Revision.kind).where(Revision.record_id == fid)).all()
    assert "conflict" in kinds  # the losing side is in history too
    # the phone learns of it through the pull
    changes, _ = devs["sup1"].pull_all()
    [mine] = [c for c in changes if c["id"] == fid]
    assert mine["has_conflict"] is True and mine["data"]["has_conflict"] is True


def test_equal_values_are_no_conflict(world, devs):
    fid = _finding(devs, world)
    devs["manager"].push_one("finding", fid, {"title": "同样"}, base_version=1)
    res = devs["sup1"].push_one("finding", fid, {"title": "同样"}, base_version=1)
    assert res["status"] == "merged" and res["conflicts"] == []


def test_duplicate_returns_the_first_result_and_applies_once(world, devs):
    fid = _finding(devs, world)
    m = devs["sup1"].mutation("finding", fid, {"title": "一次"}, base_version=1)
    first = devs["sup1"].push(m)[0]
    again = devs["sup1"].push(m, m)
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert again[0]["version"] == first["version"] and again[0]["first_status"] == "applied"
    assert db.session.get(Finding, fid).version == 2
    assert db.session.scalar(select(func.count()).select_from(AppliedMutation)) == 2


def test_rejected_then_blocked_while_unrelated_ones_apply(world, devs):
    fid, other = _finding(devs, world), _finding(devs, world)
    d = devs["sup1"]
    results = d.push(
        d.mutation("finding", fid, {"severity": "catastrophic"}, base_version=1),
        d.mutation("finding", fid, {"title": "之后"}, base_version=1),
        d.mutation("finding", other, {"title": "无关"}, base_version=1),
    )
    assert [r["status"] for r in results] == ["rejected", "blocked", "applied"]
    assert "severity" in results[0]["errors"]
    assert db.session.get(Finding, fid).title == "原标题"
    # a rejected mutation is not recorded: the fixed one may be sent again with the same id
    assert db.session.get(AppliedMutation, results[0]["mutation_id"]) is None


def test_rejections_are_translated(world, devs, client):
    d = devs["sup1"]
    m = d.mutation("finding", new_id(), {"visit_id": world["visits"][0].id, "severity": "x"})
    r = d.post("/api/v1/sync/push", json={"device_id": d.device_id, "mutations": [m]},
               headers={"Accept-Language": "zh-CN"})
    errors = r.get_json()["results"][0]["errors"]
    assert "title" in errors and "severity" in errors
    assert any("\u4e00" <= ch <= "\u9fff" for ch in errors["severity"][0])


@pytest.mark.parametrize("bad", [
    {"captured_at": "2026-11-25T10:00:00"},  # no zone
    {"lat": 200},
    {"photos": ["not-a-hash"]},
    {"area": "marketing"},
    {"nonsense": 1},
    {"title": ""},
])
def test_invalid_data_is_rejected_with_field_errors(world, devs, bad):
    fid = _finding(devs, world)
    res = devs["sup1"].push_one("finding", fid, bad, base_version=1)
    assert res["status"] == "rejected" and set(res["errors"]) == set(bad)


def test_bad_envelopes(world, devs, client):
    d = devs["sup1"]
    r = d.post("/api/v1/sync/push", json={"mutations": []})
    assert r.status_code == 400 and "device_id" in r.get_json()["error"]["fields"]
    r = d.post("/api/v1/sync/push", data="[]", content_type="application/json")
    assert r.status_code == 400
    results = d.push({"mutation_id": "x"}, 7, {"mutation_id": new_id(), "entity": "site", "id": new_id(),
                                               "base_version": 0, "data": {}})
    assert [r["status"] for r in results] == ["rejected", "rejected", "rejected"]
    assert client.post("/api/v1/sync/push", json={"device_id": new_id(), "mutations": []}).status_code == 401


def test_set_fields_merge_by_union(world, devs):
    h = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(4)]
    fid = _finding(devs, world, photos=[h[0], h[1]])
    devs["manager"].push_one("finding", fid, {"photos": [h[0], h[1], h[2]]}, base_version=1)
    res = devs["sup1"].push_one("finding", fid, {"photos": [h[0], h[3]]}, base_version=1)
    assert res["status"] == "merged"
    assert sorted(db.session.get(Finding, fid).photos) == sorted([h[0], h[2], h[3]])


def test_missing_photos_are_reported(world, devs):
    have, lack = hashlib.sha256(b"a").hexdigest(), hashlib.sha256(b"b").hexdigest()
    db.session.add(Photo(sha256=have, size=1, content_type="image/jpeg"))
    db.session.commit()
    fid = new_id()
    res = devs["sup1"].push_one("finding", fid, {"visit_id": world["visits"][0].id, "title": "t",
                                                 "photos": [have, lack]})
    assert res["status"] == "applied" and res["missing_photos"] == [lack]


def test_a_finding_status_is_not_the_phones_to_change(world, devs):
    """The workflow owns a finding's status (plan → progress → acceptance): a push that changes it
    is rejected in the user's language, whoever sends it, and the finding stays as it was."""
    fid = _finding(devs, world)
    for who, to in (("sup1", "closed"), ("sup1", "rectifying"), ("manager", "closed")):
        res = devs[who].push_one("finding", fid, {"status": to}, base_version=1)
        assert res["status"] == "rejected" and list(res["errors"]) == ["status"], res
    assert db.session.get(Finding, fid).status == "open"
    # the device's unchanged copy of the status travels with an edit without harm
    res = devs["sup1"].push_one("finding", fid, {"status": "open", "title": "改了标题"}, base_version=1)
    assert res["status"] == "applied"


def test_delete_vs_concurrent_edit_keeps_the_record(world, devs):
    fid = _finding(devs, world)
    devs["manager"].push_one("finding", fid, {"title": "经理改过"}, base_version=1)
    res = devs["sup1"].push_one("finding", fid, op="delete", base_version=1)
    assert res["status"] == "conflict" and res["conflicts"][0]["field"] == "deleted"
    f = db.session.get(Finding, fid)
    assert f.deleted_at is None and f.has_conflict


def test_edit_after_delete_is_kept_on_the_tombstone_with_a_conflict(world, devs):
    fid = _finding(devs, world)
    assert devs["manager"].push_one("finding", fid, op="delete", base_version=1)["status"] == "applied"
    res = devs["sup1"].push_one("finding", fid, {"impact": "离线补充"}, base_version=1)
    assert res["status"] == "conflict" and [c["field"] for c in res["conflicts"]] == ["deleted"]
    f = db.session.get(Finding, fid)
    assert f.deleted_at is not None and f.impact == "离线补充"


def test_plain_delete_is_a_tombstone_in_the_feed(world, devs):
    fid = _finding(devs, world)
    _, cursor = devs["sup1"].pull_all()
    assert devs["sup1"].push_one("finding", fid, op="delete", base_version=1)["status"] == "applied"
    changes, _ = devs["sup1"].pull_all(cursor)
    assert [(c["id"], c["deleted"]) for c in changes] == [(fid, True)]
    assert devs["sup1"].push_one("finding", fid, op="delete", base_version=2)["status"] == "applied"  # no-op


def test_own_earlier_mutations_in_a_batch_are_not_a_conflict(world, devs):
    fid = _finding(devs, world)
    d = devs["sup1"]
    results = d.push(d.mutation("finding", fid, {"title": "第一次"}, base_version=1),
                     d.mutation("finding", fid, {"title": "第二次"}, base_version=1))
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert db.session.get(Finding, fid).title == "第二次"


def test_visit_pushed_without_supervisor_is_the_pushers(world, devs):
    vid = new_id()
    site = world["sites"][1]
    res = devs["sup1"].push_one("visit", vid, {"site_id": site.id, "template_id": world["visits"][0].template_id,
                                               "status": "in_progress"})
    assert res["status"] == "applied"
    v = db.session.get(Visit, vid)
    assert (v.supervisor_id, v.department_id) == (world["users"]["sup1"].id, site.department_id)


@pytest.mark.parametrize("who, entity, ok", [
    ("sup1", "finding", True), ("sup2", "finding", False), ("head1", "finding", False),
    ("staff1", "finding", False), ("manager", "finding", True),
    ("head1", "rectification_update", True), ("head2", "rectification_update", False),
    ("sup1", "rectification_update", False), ("staff1", "rectification_update", False),
])
def test_push_permissions(world, devs, who, entity, ok):
    visit, finding = world["visits"][0], world["findings"][0]
    submit_plan(finding, world["users"]["head1"], "整改措施", "吴敏", date(2026, 12, 20))
    db.session.commit()
    data = {"visit_id": visit.id, "title": "x"} if entity == "finding" else \
        {"finding_id": finding.id, "progress": 40, "note": "进行中"}
    res = devs[who].push_one(entity, new_id(), data)
    assert (res["status"] == "applied") == ok, res


def test_out_of_scope_edit_looks_missing(world, devs):
    res = devs["sup2"].push_one("finding", world["findings"][0].id, {"title": "偷改"}, base_version=1)
    assert res["status"] == "rejected" and "id" in res["errors"]


def test_parent_cannot_move(world, devs):
    fid = _finding(devs, world)
    res = devs["manager"].push_one("finding", fid, {"visit_id": world["visits"][1].id}, base_version=1)
    assert res["status"] == "rejected" and "visit_id" in res["errors"]


def test_audit_trail_keeps_capture_time(world, devs):
    fid = new_id()
    d = devs["sup1"]
    m = d.mutation("finding", fid, {"visit_id": world["visits"][0].id, "title": "t"})
    m["client_time"] = "2026-11-20T08:00:00+08:00"
    d.push(m)
    rev = db.session.scalars(select(Revision).where(Revision.record_id == fid)).one()
    assert (rev.user_id, rev.device_id, rev.mutation_id, rev.kind) == (
        world["users"]["sup1"].id, d.device_id, m["mutation_id"], "accepted")
    assert rev.client_time.isoformat() == "2026-11-20T00:00:00+00:00" and rev.server_time > rev.client_time


def test_a_record_the_session_already_holds_is_read_afresh_under_the_lock(world, devs):
    """The push reads its records under the lock; a copy the session held from before (here: loaded,
    then its transaction ended without expiring it) must not stand in for the stored row."""
    fid = _finding(devs, world)
    session = db.session()
    session.expire_on_commit = False
    try:
        held = session.get(Finding, fid)
        assert (held.version, held.severity) == (1, "medium")
        session.commit()
        assert devs["manager"].push_one("finding", fid, {"severity": "critical"}, base_version=1)["status"] == "applied"
        assert (held.version, held.severity) == (1, "medium")  # still the old copy
        sup = world["users"]["sup1"]
        raw = devs["sup1"].mutation("finding", fid, {"severity": "low"}, 1)
        [result] = make_engine().push(sup, new_id(), [parse_mutation(raw)])
        session.commit()
    finally:
        session.expire_on_commit = True
    assert result["status"] == "conflict" and result["version"] == 3
    assert [c["field"] for c in result["conflicts"]] == ["severity"]
    assert db.session.get(Finding, fid).severity == "critical"
