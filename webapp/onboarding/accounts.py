"""A user row of the import applied to an account.

New accounts go through webapp/auth/operations.create_user (the same password policy, Person row and
audit as the users page). Changes are applied here rather than by webapp/users/operations.update_account
because an import row is compared column by column first (columns left out keep their values); the
rules that matter hold all the same: the import refuses changing one's own role, so the importing
administrator stays one and the last administrator cannot be demoted by a file.
"""

import secrets

from sqlalchemy import select

from webapp.audit.operations import record_audit
from webapp.auth.models import User
from webapp.auth.operations import create_user
from webapp.extensions import db
from webapp.org.models import Department, Person

USER_FIELDS = ("display_name", "role", "department_id", "email", "mobile", "locale")


def temporary_password() -> str:
    """12 characters from an unambiguous alphabet; shown once, stored only as a hash."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def _department_code(department_id):
    dept = db.session.get(Department, department_id) if department_id else None
    return dept.code if dept else None


def save_user_row(values: dict, actor, user: User | None = None, dry_run: bool = False) -> tuple[User, dict, str | None]:
    """Create (user None) or change an account from an import row: `values` has username,
    display_name, role, department_id, email, mobile, locale. Returns the user, {field: [old, new]}
    and, for a new account, its temporary password (None in a dry run: the preview hashes nothing).
    Flushes, never commits; audited."""
    if user is None:
        password = None
        if dry_run:  # the same rows as create_user, without the deliberately slow password hash
            user = User(username=values["username"], role=values["role"], display_name=values["display_name"],
                        department_id=values.get("department_id"), email=values.get("email"),
                        locale=values.get("locale"), password_hash="!")
            db.session.add(user)
            db.session.flush()
            db.session.add(Person(name=user.display_name, department_id=user.department_id, user_id=user.id))
        else:
            password = temporary_password()
            user = create_user(values["username"], values["role"], password,
                               department_code=_department_code(values.get("department_id")),
                               display_name=values["display_name"], email=values.get("email"),
                               locale=values.get("locale"))
        user.mobile = values.get("mobile")
        user.must_change_password = True
        db.session.flush()
        changes = {k: [None, values.get(k)] for k in ("username", *USER_FIELDS) if values.get(k) is not None}
        record_audit(actor, "user.imported", "user", user.id, {"username": user.username, "changes": changes})
        return user, changes, password
    changes = {k: [getattr(user, k), values.get(k)] for k in USER_FIELDS if getattr(user, k) != values.get(k)}
    if changes:
        for name in changes:
            setattr(user, name, values.get(name))
        person = db.session.scalar(select(Person).where(Person.user_id == user.id))
        if person is not None:
            person.name = user.display_name
            person.department_id = user.department_id
        db.session.flush()
        record_audit(actor, "user.update", "user", user.id, {"username": user.username, "changes": changes,
                                                             "source": "import"})
    return user, changes, None
