"""webapp/users/operations.py: each operation, its audit entry, and the rules it keeps."""

import pytest
from sqlalchemy import func, select

from webapp.audit.models import AuditEntry
from webapp.auth.models import ApiToken, LoginAttempt, User, UserSession
from webapp.auth.operations import issue_token, sign_in_delay, start_session
from webapp.extensions import db
from webapp.org.models import Person
from webapp.users import operations as ops


def audit(action):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id.desc())).first()


def test_create_account_makes_a_temporary_password_and_a_person(app, world):
    admin, (d1, _d2) = world["users"]["admin"], world["depts"]
    user, password = ops.create_account(admin, {"username": " Wang.Fang ", "display_name": "王芳", "role": "staff",
                                                "department_id": d1.id, "mobile": "+86 138-0000-0000",
                                                "email": "wf@example.com", "locale": "zh_CN"})
    db.session.commit()
    assert user.username == "wang.fang" and user.must_change_password and user.active
    assert user.check_password(password) and len(password) == 14
    person = db.session.scalar(select(Person).where(Person.user_id == user.id))
    assert person.name == "王芳" and person.department_id == d1.id
    entry = audit("user.create")
    assert entry.user_id == admin.id and entry.data["role"] == "staff" and entry.data["department"] == d1.id


def test_create_account_by_department_code_for_the_import(app, world):
    user, _pw = ops.create_account(None, {"username": "li", "display_name": "李", "role": "dept_head",
                                          "department_code": "D2"})
    assert user.department_id == world["depts"][1].id


@pytest.mark.parametrize("values, field", [
    ({"username": "x", "display_name": "X", "role": "boss"}, "role"),
    ({"username": "x", "display_name": "X", "role": "staff"}, "department_id"),
    ({"username": "x", "display_name": "X", "role": "staff", "department_id": "no-such"}, "department_id"),
    ({"username": "x", "display_name": "=cmd|' /C calc'!A0", "role": "manager"}, "display_name"),
    ({"username": "=cmd|' /C calc'!A0", "display_name": "X", "role": "manager"}, "username"),
    ({"username": "x", "display_name": "a\x00b", "role": "manager"}, "display_name"),
    ({"username": "x", "display_name": "X" * 10_000, "role": "manager"}, "display_name"),
    ({"username": "x", "display_name": "X", "role": "manager", "email": "not-an-email"}, "email"),
    ({"username": "x", "display_name": "X", "role": "manager", "mobile": "call me"}, "mobile"),
    ({"username": "admin", "display_name": "X", "role": "manager"}, "username"),
    ({"username": "x", "display_name": 5, "role": "manager"}, "display_name"),
])
def test_create_account_refuses_bad_values(app, world, values, field):
    before = db.session.scalar(select(func.count()).select_from(User))
    with pytest.raises(ops.AccountRefused) as e:
        ops.create_account(world["users"]["admin"], values)
    db.session.rollback()
    assert field in e.value.fields
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_update_account_records_old_and_new(app, world):
    admin, staff, (d1, d2) = world["users"]["admin"], world["users"]["staff1"], world["depts"]
    db.session.add(Person(name="员工甲", department_id=d1.id, user_id=staff.id))
    db.session.commit()
    changes = ops.update_account(admin, staff, {"role": "dept_head", "department_id": d2.id, "display_name": "甲"})
    db.session.commit()
    assert changes == {"display_name": ["员工甲", "甲"], "role": ["staff", "dept_head"],
                       "department_id": [d1.id, d2.id]}
    entry = audit("user.role_change")
    assert entry.data["changes"]["role"] == ["staff", "dept_head"]
    assert entry.data["changes"]["department"] == [d1.id, d2.id]
    person = db.session.scalar(select(Person).where(Person.user_id == staff.id))
    assert person.name == "甲" and person.department_id == d2.id
    assert ops.update_account(admin, staff, {"display_name": "甲"}) == {}  # nothing changed: no entry


def test_update_account_leaves_out_fields_not_given(app, world):
    manager = world["users"]["manager"]
    manager.email = "m@example.com"
    db.session.commit()
    ops.update_account(world["users"]["admin"], manager, {"mobile": "13800000000"})
    assert manager.email == "m@example.com" and manager.role == "manager"


def test_an_administrator_keeps_their_own_role_and_account(app, world):
    admin = world["users"]["admin"]
    other = world["users"]["manager"]
    ops.update_account(admin, other, {"role": "admin"})
    with pytest.raises(ops.AccountRefused, match="不能取消自己的管理员角色"):
        ops.update_account(admin, admin, {"role": "manager"})
    with pytest.raises(ops.AccountRefused, match="不能停用自己的账号"):
        ops.deactivate_account(admin, admin)


def test_the_last_active_administrator_stays(app, world):
    admin, manager = world["users"]["admin"], world["users"]["manager"]
    # Someone else (the command line: no actor) tries to demote or disable the only administrator.
    with pytest.raises(ops.AccountRefused, match="最后一位在用的管理员"):
        ops.update_account(None, admin, {"role": "manager"})
    with pytest.raises(ops.AccountRefused, match="最后一位在用的管理员"):
        ops.deactivate_account(manager, admin)
    db.session.rollback()
    ops.update_account(admin, manager, {"role": "admin"})
    ops.deactivate_account(manager, admin)  # now there is another
    assert admin.active is False


def test_disable_ends_sessions_and_tokens_and_enable_lets_them_back(app, world):
    admin, sup = world["users"]["admin"], world["users"]["sup1"]
    start_session(sup)
    issue_token(sup, "phone")
    ops.deactivate_account(admin, sup)
    db.session.commit()
    assert sup.active is False
    assert db.session.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == sup.id, UserSession.ended_at.is_(None))) == 0
    assert db.session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == sup.id, ApiToken.revoked_at.is_(None))) == 0
    ops.activate_user(admin, sup)
    assert sup.active is True and audit("user.activate").user_id == admin.id


def test_approve_a_pending_user(app, world):
    admin, d1 = world["users"]["admin"], world["depts"][0]
    user = User(username="sso-new", display_name="新人", role="staff", password_hash="!", active=False,
                pending_approval=True)
    db.session.add(user)
    db.session.commit()
    with pytest.raises(ops.AccountRefused):
        ops.activate_user(admin, user)  # a pending account is approved, not merely enabled
    with pytest.raises(ops.AccountRefused) as e:
        ops.approve_user(admin, user, {"role": "staff"})
    assert "department_id" in e.value.fields
    ops.approve_user(admin, user, {"role": "staff", "department_id": d1.id})
    db.session.commit()
    assert user.active and not user.pending_approval and user.department_id == d1.id
    assert db.session.scalar(select(Person).where(Person.user_id == user.id)).department_id == d1.id
    assert audit("user.approve").data["changes"]["role"] == ["staff", "staff"]
    with pytest.raises(ops.AccountRefused):
        ops.approve_user(admin, user, {"role": "staff", "department_id": d1.id})


def test_reset_password(app, world):
    admin, sup = world["users"]["admin"], world["users"]["sup1"]
    start_session(sup)
    password = ops.reset_password(admin, sup)
    db.session.commit()
    assert sup.check_password(password) and sup.must_change_password
    assert db.session.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == sup.id, UserSession.ended_at.is_(None))) == 0
    assert audit("user.password_reset").user_id == admin.id


def test_unlock_forgets_failed_sign_ins(app, world):
    sup = world["users"]["sup1"]
    for _ in range(8):
        db.session.add(LoginAttempt(username="sup1", address="10.0.0.9", success=False))
    db.session.add(LoginAttempt(username="sup2", address="10.0.0.9", success=False))
    db.session.commit()
    assert sign_in_delay("sup1") > 0
    result = ops.unlock_user(world["users"]["admin"], sup)
    db.session.commit()
    assert result == {"failed_sign_ins": 8, "addresses": 1, "limiter_cleared": True}
    assert sign_in_delay("sup1") == 0
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 1  # sup2's stays
    assert audit("user.unlock").data == {"failed_sign_ins": 8, "addresses": 1}


def test_temporary_passwords_pass_the_policy_and_differ(app):
    from webapp.auth.passwords import password_problems

    seen = {ops.temporary_password("abcd") for _ in range(50)}
    assert len(seen) == 50 and not any(password_problems(p, username="abcd") for p in seen)
