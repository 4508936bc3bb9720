"""One rulebook for the phone and the desk: each case of the issue, through the public sync API and
the web forms. The phone path cannot get around the workflow, the scope or the user's identity."""

from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import AuthActions
from tests.sync.conftest import Device, new_id
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.findings.review import confirm_finding
from webapp.models import Finding, Interview, Metric, Revision, Visit
from webapp.rectification import operations as rect_ops

DEADLINE = date(2026, 12, 20)  # after the pinned today


@pytest.fixture
def phones(world, client):
    u = world["users"]
    return {name: Device(client, u[name]) for name in ("sup1", "sup2", "head1", "head2", "staff1", "manager")}


def _finding_on_phone(phones, world):
    fid = new_id()
    res = phones["sup1"].push_one("finding", fid, {"visit_id": world["visits"][0].id, "title": "消防通道堵塞",
                                                   "severity": "high"})
    assert res["status"] == "applied", res
    return fid


@pytest.mark.parametrize("status", ["closed", "rectifying", "pending_acceptance"])
def test_a_phone_cannot_move_a_finding_through_the_loop(world, phones, client, status):
    fid = _finding_on_phone(phones, world)
    res = phones["sup1"].push_one("finding", fid, {"status": status}, base_version=1)
    assert res["status"] == "rejected"
    assert "整改" in res["errors"]["status"][0]  # in the user's language: the loop goes through rectification
    f = db.session.get(Finding, fid)
    assert f.status == "open"
    # the desk's loop is not stuck: once management confirmed it in review, the department head can plan
    confirm_finding(f, world["users"]["manager"])
    rect_ops.submit_plan(f, world["users"]["head1"], "清理通道", "吴敏", DEADLINE)
    db.session.commit()
    assert db.session.get(Finding, fid).status == "rectifying"


def test_a_new_finding_from_a_phone_starts_open(world, phones):
    res = phones["sup1"].push_one("finding", new_id(), {"visit_id": world["visits"][0].id, "title": "x",
                                                        "status": "closed"})
    assert res["status"] == "rejected" and "status" in res["errors"]


def test_progress_from_a_phone_follows_the_desk_rule(world, phones):
    f = world["findings"][0]
    update = {"finding_id": f.id, "progress": 100, "note": "已完成"}
    # no plan yet: nobody may report progress, not the supervisor, not the head
    for who in ("sup1", "head1"):
        res = phones[who].push_one("rectification_update", new_id(), update)
        assert res["status"] == "rejected", (who, res)
    rect_ops.submit_plan(f, world["users"]["head1"], "补齐签字", "员工甲", DEADLINE)
    db.session.commit()
    for who in ("sup1", "head2", "staff1"):
        assert phones[who].push_one("rectification_update", new_id(), update)["status"] == "rejected", who
    uid = new_id()
    assert phones["head1"].push_one("rectification_update", uid, update)["status"] == "applied"
    # the same audit entry as the desk's operation writes
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "rectification.progress"))
    assert entry.user_id == world["users"]["head1"].id and entry.data["update_id"] == uid


def test_another_users_device_id_is_refused_not_merged(world, phones, client):
    fid = _finding_on_phone(phones, world)
    assert phones["sup1"].push_one("finding", fid, {"title": "督导改过"}, base_version=1)["status"] == "applied"
    thief = phones["manager"]
    thief.device_id = phones["sup1"].device_id  # pretends to be the supervisor's phone
    body = thief.push(thief.mutation("finding", fid, {"title": "被覆盖"}, base_version=1), expect=409)
    assert body["error"]["code"] == "device_taken"
    assert db.session.get(Finding, fid).title == "督导改过"


def test_own_edits_are_the_same_user_on_the_same_device(world, phones):
    """Two users' edits from the same base are concurrent, even if a device id were shared."""
    fid = _finding_on_phone(phones, world)
    assert phones["manager"].push_one("finding", fid, {"title": "经理改过"}, base_version=1)["status"] == "applied"
    res = phones["sup1"].push_one("finding", fid, {"title": "督导改过"}, base_version=1)
    assert res["status"] == "conflict"


def test_a_mutation_id_is_one_users_for_one_record(world, phones):
    visit = world["visits"][0]
    first = phones["sup1"].mutation("finding", new_id(), {"visit_id": visit.id, "title": "甲"})
    assert phones["sup1"].push(first)[0]["status"] == "applied"
    # another user reuses the id for their own record: refused, and told nothing of the first
    v2 = world["visits"][1]
    reuse = phones["sup2"].mutation("finding", new_id(), {"visit_id": v2.id, "title": "乙"},
                                    mutation_id=first["mutation_id"])
    res = phones["sup2"].push(reuse)[0]
    assert res["status"] == "rejected" and res["id"] == reuse["id"] and "mutation_id" in res["errors"]
    assert first["id"] not in str(res)
    assert db.session.get(Finding, reuse["id"]) is None
    # the same user, another record: refused too; the same user, same record: a duplicate
    again = phones["sup1"].mutation("finding", new_id(), {"visit_id": visit.id, "title": "丙"},
                                    mutation_id=first["mutation_id"])
    assert phones["sup1"].push(again)[0]["status"] == "rejected"
    assert phones["sup1"].push(first)[0]["status"] == "duplicate"


def _inside_visit(phones, world):
    visit = world["visits"][0]
    ids = {"interview": new_id(), "metric": new_id()}
    res = phones["sup1"].push(
        phones["sup1"].mutation("interview", ids["interview"], {"visit_id": visit.id, "interviewee": "王店长"}),
        phones["sup1"].mutation("metric", ids["metric"], {"visit_id": visit.id, "kind": "business",
                                                          "name": "营业额", "value": 12.5}))
    assert [r["status"] for r in res] == ["applied", "applied"], res
    return visit, ids


def _markers(changes):
    return {(c["entity"], c["id"]) for c in changes if c.get("reason") == "out_of_scope"}


@pytest.fixture
def desk(app, client):
    """A browser on the desk: its own cookie jar, apart from the phones' client (`client` sets the
    test client class that gives each request its own app context)."""
    return app.test_client()


def test_reassigned_visit_leaves_the_old_supervisors_phone_and_reaches_the_new(world, phones, desk):
    visit, ids = _inside_visit(phones, world)
    f1 = world["findings"][0]
    _, old_cursor = phones["sup1"].pull_all()
    _, new_cursor = phones["sup2"].pull_all()
    _, head_cursor = phones["head1"].pull_all()
    # the manager reassigns it on the desk
    auth = AuthActions(desk)
    auth.login("manager")
    r = desk.post(f"/visits/{visit.id}/reassign", data={"supervisor_id": world["users"]["sup2"].id,
                                                          "csrf_token": auth.csrf()})
    assert r.status_code == 303
    old, _ = phones["sup1"].pull_all(old_cursor)
    gone = _markers(old)
    assert {("visit", visit.id), ("interview", ids["interview"]), ("metric", ids["metric"]),
            ("finding", f1.id)} <= gone
    new, _ = phones["sup2"].pull_all(new_cursor)
    got = {(c["entity"], c["id"]) for c in new if not c.get("reason")}
    assert {("visit", visit.id), ("interview", ids["interview"]), ("metric", ids["metric"]),
            ("finding", f1.id)} <= got
    # the department did not change: its head keeps everything, and is told to drop nothing
    head, _ = phones["head1"].pull_all(head_cursor)
    assert not _markers(head)
    # by URL too
    auth.logout()
    auth.login("sup1")
    assert desk.get(f"/visits/{visit.id}").status_code == 404
    assert desk.get(f"/findings/{f1.id}").status_code == 404
    # the new owner records inside it; the old one cannot
    assert phones["sup1"].push_one("interview", ids["interview"], {"notes": "补充"}, base_version=1)["status"] \
        == "rejected"
    assert phones["sup2"].push_one("interview", ids["interview"], {"notes": "补充"}, base_version=1)["status"] \
        == "applied"


def test_visit_moved_to_another_department_leaves_the_old_head(world, phones):
    visit, ids = _inside_visit(phones, world)
    _, head1_cursor = phones["head1"].pull_all()
    _, head2_cursor = phones["head2"].pull_all()
    v = db.session.get(Visit, visit.id)
    v.site_id = world["sites"][1].id  # a site of department 2 (e.g. corrected on the desk)
    db.session.commit()
    assert db.session.get(Visit, visit.id).department_id == world["depts"][1].id
    old, _ = phones["head1"].pull_all(head1_cursor)
    assert {("visit", visit.id), ("interview", ids["interview"]), ("metric", ids["metric"])} <= _markers(old)
    new, _ = phones["head2"].pull_all(head2_cursor)
    assert {("interview", ids["interview"]), ("metric", ids["metric"])} <= {(c["entity"], c["id"]) for c in new}
    assert db.session.get(Interview, ids["interview"]) and db.session.get(Metric, ids["metric"])


def test_staff_push_nothing_and_are_told_why(world, phones):
    site = world["sites"][0]
    res = phones["staff1"].push_one("visit", new_id(), {"site_id": site.id, "template_id":
                                                        world["visits"][0].template_id})
    assert res["status"] == "rejected" and "不能从设备提交" in res["errors"]["id"][0]


def test_every_write_names_its_author(world, phones, desk):
    auth = AuthActions(desk)
    auth.login("manager")
    visit = world["visits"][0]
    desk.post(f"/visits/{visit.id}/reassign", data={"supervisor_id": world["users"]["sup2"].id,
                                                      "csrf_token": auth.csrf()})
    db.session.expire_all()
    rev = db.session.scalars(select(Revision).where(Revision.record_id == visit.id)
                             .order_by(Revision.version.desc())).first()
    assert rev.user_id == world["users"]["manager"].id and rev.actor == "web"
    v2 = world["visits"][1]
    res = phones["sup2"].push_one("interview", new_id(), {"visit_id": v2.id, "interviewee": "李"})
    rev = db.session.scalar(select(Revision).where(Revision.record_id == res["id"]))
    assert rev.user_id == world["users"]["sup2"].id and rev.device_id == phones["sup2"].device_id
    assert rev.actor == "device"
    # nothing but the fixtures' own inserts (made outside any request or command) lacks an author
    anonymous = db.session.scalars(select(Revision).where(Revision.user_id.is_(None))).all()
    assert all(r.actor == "system" for r in anonymous)


@pytest.mark.parametrize("who, status", [("sup1", 403), ("head1", 403), ("staff1", 403), ("sup2", 404), ("head2", 404)])
def test_only_management_reassigns_and_others_learn_nothing(world, desk, who, status):
    visit = world["visits"][0]
    auth = AuthActions(desk)
    auth.login(who)
    r = desk.post(f"/visits/{visit.id}/reassign", data={"supervisor_id": world["users"]["sup2"].id,
                                                        "csrf_token": auth.csrf()})
    assert r.status_code == status
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).supervisor_id == world["users"]["sup1"].id


@pytest.mark.parametrize("value", ["=1+1", "\x00\x0b", "x" * 10_000, ""])
def test_reassigning_to_nonsense_is_a_clear_refusal(world, desk, value):
    visit = world["visits"][0]
    auth = AuthActions(desk)
    auth.login("manager")
    r = desk.post(f"/visits/{visit.id}/reassign", data={"supervisor_id": value, "csrf_token": auth.csrf()},
                  follow_redirects=True)
    assert r.status_code == 200 and "请选择一名在职的督导人员。" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).supervisor_id == world["users"]["sup1"].id


def test_reassign_needs_the_csrf_token(world, desk):
    AuthActions(desk).login("manager")
    r = desk.post(f"/visits/{world['visits'][0].id}/reassign", data={"supervisor_id": world["users"]["sup2"].id})
    assert r.status_code == 400
