"""The organisation operations: the tree and its moves, archive rules, sites moving between
departments (visits keep theirs, new ones follow the site), codes, coordinates and the site manager."""

from datetime import date

import pytest
from sqlalchemy import select

from webapp.audit.models import AuditEntry
from webapp.authz import scoped
from webapp.extensions import db
from webapp.org import operations as ops
from webapp.org.schemas import DepartmentArgs, SiteArgs
from webapp.plans.models import Plan, ScheduledVisit
from webapp.plans.operations import _publish
from webapp.visits.models import Visit


@pytest.fixture(autouse=True)
def _in_request(request_ctx):
    yield


def _dept_values(d, **kw):
    values = {"code": d.code, "name": d.name, "name_en": d.name_en, "kind": d.kind, "parent_id": d.parent_id}
    values.update(kw)
    return values


def _site_values(s, **kw):
    values = {name: getattr(s, name) for name in ops.SITE_FIELDS}
    values.update(kw)
    return values


def _audit(entity_id):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.entity_id == str(entity_id))
                              .order_by(AuditEntry.id)).all()


# ---- the tree ----------------------------------------------------------------------------------

def test_create_and_move_in_the_tree_is_audited_old_to_new(world, tree):
    admin = world["users"]["admin"]
    dept, changes = ops.save_department({"code": "NEW", "name": "新部门", "kind": "department"}, admin)
    assert dept.parent_id is None and changes["code"] == [None, "NEW"]
    _, changes = ops.save_department(_dept_values(dept, parent_id=tree["d1a"].id), admin, dept)
    db.session.commit()
    assert dept.parent_id == tree["d1a"].id
    assert changes == {"parent_id": [None, tree["d1a"].id]}
    entries = _audit(dept.id)
    assert [e.action for e in entries] == ["department.create", "department.update"]
    assert entries[1].data["changes"] == {"parent_id": [None, tree["d1a"].id]} and entries[1].user_id == admin.id


def test_saving_without_a_change_writes_nothing(world, tree):
    _, changes = ops.save_department(_dept_values(tree["d1a"]), world["users"]["admin"], tree["d1a"])
    assert changes == {} and _audit(tree["d1a"].id) == []


@pytest.mark.parametrize("target", ["d1", "d1a", "d1a1"])
def test_a_department_cannot_go_under_itself_or_its_own_sub_departments(world, tree, target):
    d1 = tree["d1"]
    with pytest.raises(ops.OrgError) as e:
        ops.save_department(_dept_values(d1, parent_id=tree[target].id), world["users"]["admin"], d1)
    assert e.value.fields["parent_id"] == ["A department cannot be placed under itself or its own sub-departments."]
    db.session.rollback()
    assert db.session.get(type(d1), d1.id).parent_id is None


def test_moving_a_branch_moves_its_sub_departments_with_it(world, tree):
    ops.save_department(_dept_values(tree["d1a"], parent_id=tree["d2"].id), world["users"]["admin"], tree["d1a"])
    db.session.commit()
    assert tree["d1a1"].parent_id == tree["d1a"].id and tree["d1a"].parent_id == tree["d2"].id


def test_a_parent_that_does_not_exist_is_refused(world, tree):
    with pytest.raises(ops.OrgError) as e:
        ops.save_department(_dept_values(tree["d1a"], parent_id="no-such-id"), world["users"]["admin"], tree["d1a"])
    assert "parent_id" in e.value.fields


def test_department_code_is_unique_409(world, tree):
    with pytest.raises(ops.OrgError) as e:
        ops.save_department({"code": "D2", "name": "重复"}, world["users"]["admin"])
    assert e.value.status == 409 and e.value.fields == {"code": ["This code is already in use."]}


# ---- archive rules -----------------------------------------------------------------------------

def test_archive_is_refused_while_active_sites_or_sub_departments_remain(world, tree):
    admin = world["users"]["admin"]
    with pytest.raises(ops.OrgError) as e:
        ops.archive_department(tree["d1"], admin)  # S1 and D1A
    assert e.value.status == 409
    assert e.value.message == "It still has 1 active sites and 1 active sub-departments: move or archive them first."
    with pytest.raises(ops.OrgError):
        ops.archive_department(tree["d1a"], admin)  # D1A1 below it
    ops.archive_department(tree["d1a1"], admin)
    ops.archive_department(tree["d1a"], admin)
    ops.archive_site(world["sites"][0], admin)
    ops.archive_department(tree["d1"], admin)
    db.session.commit()
    assert tree["d1"].archived_at is not None
    assert [e.action for e in _audit(tree["d1"].id)] == ["department.archive"]


def test_an_archived_department_takes_no_new_child_or_site_but_its_own_can_be_corrected(world, tree):
    admin = world["users"]["admin"]
    ops.archive_department(tree["d1a1"], admin)
    ops.archive_department(tree["d1a"], admin)
    with pytest.raises(ops.OrgError) as e:
        ops.save_department({"code": "X", "name": "新", "parent_id": tree["d1a"].id}, admin)
    assert e.value.fields["parent_id"] == ["This department is archived; choose another."]
    with pytest.raises(ops.OrgError) as e:
        ops.save_site({"code": "SX", "name": "新场所", "department_id": tree["d1a"].id}, admin)
    assert e.value.fields["department_id"] == ["This department is archived; choose another."]
    # correcting the archived region's name in place keeps its archived parent
    _, changes = ops.save_department(_dept_values(tree["d1a1"], name="上海大区"), admin, tree["d1a1"])
    assert changes == {"name": ["上海区域", "上海大区"]}


def test_restore_is_refused_under_an_archived_parent(world, tree):
    admin = world["users"]["admin"]
    ops.archive_department(tree["d1a1"], admin)
    ops.archive_department(tree["d1a"], admin)
    with pytest.raises(ops.OrgError) as e:
        ops.restore_department(tree["d1a1"], admin)
    assert e.value.status == 409 and "restore the parent first" in e.value.message
    ops.restore_department(tree["d1a"], admin)
    ops.restore_department(tree["d1a1"], admin)
    assert tree["d1a1"].archived_at is None


def test_a_site_is_not_restored_into_an_archived_department(world, tree):
    admin, site = world["users"]["admin"], ops.save_site({"code": "S9", "name": "九号店",
                                                          "department_id": tree["d1a1"].id}, world["users"]["admin"])[0]
    ops.archive_site(site, admin)
    ops.archive_department(tree["d1a1"], admin)
    with pytest.raises(ops.OrgError) as e:
        ops.restore_site(site, admin)
    assert e.value.status == 409 and "restore the department first" in e.value.message
    # moving the archived site to an active department is allowed, then it can be restored
    ops.save_site(_site_values(site, department_id=tree["d2"].id), admin, site)
    ops.restore_site(site, admin)
    assert site.archived_at is None
    assert [e.action for e in _audit(site.id)] == ["site.create", "site.archive", "site.move", "site.restore"]


# ---- sites -------------------------------------------------------------------------------------

def test_site_code_is_unique_409(world):
    with pytest.raises(ops.OrgError) as e:
        ops.save_site({"code": "S2", "name": "重复", "department_id": world["depts"][0].id}, world["users"]["admin"])
    assert e.value.status == 409 and e.value.fields == {"code": ["This code is already in use."]}


def test_moving_a_site_keeps_past_visits_and_new_visits_follow(world, tree, create_template):
    """Visits carry their own department: the old head keeps the past visit, the new head gets the new ones."""
    s1, old_visit = world["sites"][0], world["visits"][0]
    users = world["users"]
    _, changes = ops.save_site(_site_values(s1, department_id=tree["d2"].id), users["admin"], s1)
    db.session.commit()
    assert changes == {"department_id": [tree["d1"].id, tree["d2"].id]}
    entry = _audit(s1.id)[-1]
    assert entry.action == "site.move" and entry.data["changes"] == {"department_id": [tree["d1"].id, tree["d2"].id]}
    db.session.refresh(old_visit)
    assert old_visit.department_id == tree["d1"].id

    tpl = create_template("MOVE")
    plan = Plan(title="计划", period_type="monthly", period_start=date(2026, 12, 1), period_end=date(2026, 12, 31),
                status="approved", author_id=users["sup1"].id)
    db.session.add(plan)
    db.session.flush()
    db.session.add(ScheduledVisit(plan_id=plan.id, site_id=s1.id, window_start=date(2026, 12, 2),
                                  window_end=date(2026, 12, 4), supervisor_ids=[users["sup1"].id],
                                  template_id=tpl.id, visit_ids=[]))
    db.session.flush()
    db.session.refresh(plan)
    (new_visit,) = _publish(plan)
    db.session.commit()
    assert new_visit.department_id == tree["d2"].id

    def seen(user):
        return set(db.session.scalars(scoped(Visit, user).where(Visit.site_id == s1.id).with_only_columns(Visit.id)))

    assert seen(users["head2"]) == {new_visit.id}
    assert seen(users["head1"]) == {old_visit.id}


def test_site_changes_are_audited_old_to_new(world, tree):
    s1, admin = world["sites"][0], world["users"]["admin"]
    _, changes = ops.save_site(_site_values(s1, name="一号店", lat=31.2304, lng=121.4737, site_class="A",
                                            manager_person_id=tree["p1"].id), admin, s1)
    assert changes["name"] == ["测试场所", "一号店"] and changes["lat"] == [None, 31.2304]
    assert changes["manager_person_id"] == [None, tree["p1"].id]
    entry = _audit(s1.id)[-1]
    assert entry.action == "site.update" and entry.data["changes"] == changes and entry.data["code"] == "S1"


def test_the_site_manager_is_a_person_of_the_sites_department(world, tree):
    s1, admin = world["sites"][0], world["users"]["admin"]
    with pytest.raises(ops.OrgError) as e:
        ops.save_site(_site_values(s1, manager_person_id=tree["p2"].id), admin, s1)  # p2 is of D2
    assert e.value.fields == {"manager_person_id": ["Choose a person of the site's department (or leave it empty)."]}
    ops.save_site(_site_values(s1, manager_person_id=tree["p1"].id), admin, s1)
    # moving the site keeps no manager of the old department
    with pytest.raises(ops.OrgError) as e:
        ops.save_site(_site_values(s1, department_id=tree["d2"].id), admin, s1)
    assert "manager_person_id" in e.value.fields
    ops.save_site(_site_values(s1, department_id=tree["d2"].id, manager_person_id=tree["p2"].id), admin, s1)
    assert s1.manager_person_id == tree["p2"].id


def test_a_site_with_a_manager_who_later_changed_department_can_still_be_edited(world, tree):
    s1, admin = world["sites"][0], world["users"]["admin"]
    ops.save_site(_site_values(s1, manager_person_id=tree["p1"].id), admin, s1)
    tree["p1"].department_id = tree["d2"].id
    db.session.flush()
    _, changes = ops.save_site(_site_values(s1, name="改名"), admin, s1)
    assert set(changes) == {"name"}


# ---- schemas -----------------------------------------------------------------------------------

def _site_errors(**kw):
    data = {"code": "S5", "name": "五号店", "department_id": "x", **kw}
    return SiteArgs().validate(data)


def test_latitude_and_longitude_go_together_and_stay_in_range():
    assert _site_errors(lat="31.2") == {"lng": ["Give both latitude and longitude, or neither."]}
    assert _site_errors(lng="121.4") == {"lat": ["Give both latitude and longitude, or neither."]}
    assert "lat" in _site_errors(lat="91", lng="0") and "lng" in _site_errors(lat="0", lng="-181")
    assert "lat" in _site_errors(lat="NaN", lng="0") and "lat" in _site_errors(lat="abc", lng="0")
    assert _site_errors(lat="31.230416", lng="121.473701") == {}
    assert SiteArgs().load({"code": "S5", "name": "五号店", "department_id": "x"})["geofence_radius_m"] == 200
    assert "geofence_radius_m" in _site_errors(geofence_radius_m="5")


@pytest.mark.parametrize("value", ['=HYPERLINK("http://evil.example","x")', "+1", "@SUM(A1)", "a\x00b", "a\x1bb",
                                   "第一行\n第二行", "x" * 10_000])
def test_names_refuse_formulas_control_characters_line_breaks_and_walls_of_text(value):
    assert "name" in DepartmentArgs().validate({"code": "X", "name": value})
    assert "name" in _site_errors(name=value)


def test_a_company_may_use_its_own_site_classes_in_chinese():
    assert _site_errors(site_class="旗舰") == {}
    assert "site_class" in _site_errors(site_class="A B")
    assert _site_errors(address="上海市黄浦区\n南京东路 1 号") == {}
    assert "address" in _site_errors(address="=1+1")
