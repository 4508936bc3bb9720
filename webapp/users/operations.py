"""User accounts: create, edit, disable, enable, approve, reset a password, unlock. Operations
flush and never commit; each writes an audit entry saying what changed (old → new).

create_account and update_account take a plain dict of values (the form's, or an Excel row's),
validated by webapp/users/schemas.py, so every door applies the same rules."""

import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from limits import parse_many
from marshmallow import ValidationError
from sqlalchemy import delete, func, select

from webapp.audit.operations import record_audit
from webapp.auth import operations as auth_ops
from webapp.auth.models import LoginAttempt, User
from webapp.auth.operations import AccountError, normalize_username
from webapp.auth.passwords import password_problems
from webapp.core.formdata import translate_errors
from webapp.core.models import utcnow
from webapp.extensions import db, limiter
from webapp.org.models import Department, Person
from webapp.users.schemas import ROLES_WITH_DEPARTMENT, AccountArgs, AccountUpdateArgs, ApprovalArgs

# Easy to read aloud and to type from a screen: no 0/o, 1/l/i.
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
EDITABLE = ("display_name", "role", "department_id", "email", "mobile", "locale")


class AccountRefused(Exception):
    """An account change the rules refuse: `message` in the user's language, the `fields` to fix."""

    def __init__(self, message: str, fields: dict | None = None, status: int = 400):
        super().__init__(message)
        self.message, self.fields, self.status = message, fields, status


def _load(schema, values, **kw) -> dict:
    try:
        return schema.load(values, **kw)
    except ValidationError as e:
        raise AccountRefused(_("Please correct the marked fields."), translate_errors(e.messages)) from None


def _department(department_id: str | None, department_code: str | None = None) -> Department | None:
    if not department_id and not department_code:
        return None
    if department_id:
        dept = db.session.get(Department, department_id)
    else:
        dept = db.session.execute(select(Department).where(Department.code == department_code)).scalar()
    if dept is None or dept.archived_at is not None:
        raise AccountRefused(_("Choose one of the offered departments."),
                             {"department_id": [_("Choose one of the offered departments.")]})
    return dept


def active_admins() -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(
        User.role == "admin", User.active.is_(True))) or 0


def _keeps_an_admin(actor: User, user: User, new_role: str | None = None, disabling: bool = False) -> None:
    """Refuse what would leave the company without an administrator, or lock the actor out."""
    losing_admin = user.role == "admin" and (disabling or (new_role is not None and new_role != "admin"))
    if not losing_admin:
        return
    if actor is not None and user.id == actor.id:
        raise AccountRefused(_("You cannot disable your own account.") if disabling
                             else _("You cannot remove your own administrator role."),
                             None if disabling else {"role": [_("You cannot remove your own administrator role.")]})
    if user.active and active_admins() <= 1:
        raise AccountRefused(_("This is the last active administrator: make another user an administrator "
                               "first."), None if disabling else {"role": [_("The last active administrator "
                                                                           "keeps this role.")]})


def temporary_password(username: str = "") -> str:
    """Three groups of four: about 72 bits, readable over the phone, valid under the policy."""
    while True:
        raw = "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(12))
        password = "-".join(raw[i:i + 4] for i in range(0, 12, 4))
        if not password_problems(password, username=username):
            return password


def create_account(actor: User | None, values: dict) -> tuple[User, str]:
    """A new account (and its Person) with a temporary password, returned once; the user must
    replace it at the first sign-in."""
    data = _load(AccountArgs(), values)
    if db.session.execute(select(User.id).where(User.username == data["username"])).first():
        raise AccountRefused(_("This username is taken."), {"username": [_("This username is taken.")]})
    dept = _department(data.get("department_id"), data.get("department_code"))
    password = temporary_password(data["username"])
    try:
        user = auth_ops.create_user(data["username"], data["role"], password, dept.code if dept else None,
                                    data["display_name"], email=data.get("email"), locale=data.get("locale"),
                                    mobile=data.get("mobile"), must_change_password=True, actor=actor)
    except AccountError as e:  # the schema checked the same rules; this is the last line
        raise AccountRefused(str(e)) from None
    return user, password


def _person(user: User) -> Person | None:
    return db.session.execute(select(Person).where(Person.user_id == user.id)).scalars().first()


def update_account(actor: User | None, user: User, values: dict) -> dict:
    """Change the given fields; returns {field: [old, new]} for what changed (also audited)."""
    data = _load(AccountUpdateArgs(), values, partial=True)
    if "department_code" in values or "department_id" in values:
        dept = _department(data.get("department_id"), data.get("department_code"))
        data["department_id"] = dept.id if dept else None
    data.pop("department_code", None)
    new_role = data.get("role", user.role)
    new_dept = data.get("department_id", user.department_id)
    if new_role in ROLES_WITH_DEPARTMENT and not new_dept:
        raise AccountRefused(_("A department head or a staff member needs a department."),
                             {"department_id": [_("A department head or a staff member needs a department.")]})
    if new_role != user.role:
        # A role change is sensitive: the edit page asks for the administrator's password again
        # first (webapp/auth/reauth.py), the Excel import refuses changing one's own role.
        _keeps_an_admin(actor, user, new_role=new_role)
    changes = {}
    for field in EDITABLE:
        if field in data and data[field] != getattr(user, field):
            changes[field] = [getattr(user, field), data[field]]
            setattr(user, field, data[field])
    if not changes:
        return changes
    person = _person(user)
    if person is not None:
        if "display_name" in changes:
            person.name = user.display_name
        if "department_id" in changes:
            person.department_id = user.department_id
    audit = {k.removesuffix("_id"): v for k, v in changes.items()}
    record_audit(actor, "user.role_change" if "role" in changes else "user.update", "user", user.id,
                 {"changes": audit})
    db.session.flush()
    return changes


def deactivate_account(actor: User | None, user: User) -> None:
    """Disable: no sign-in, sessions and tokens end now; all history stays."""
    if not user.active:
        return
    _keeps_an_admin(actor, user, disabling=True)
    auth_ops.deactivate_user(user, actor)


def activate_user(actor: User | None, user: User) -> None:
    if user.pending_approval:
        raise AccountRefused(_("This account waits for approval: approve it with a role instead."))
    if user.active:
        return
    auth_ops.activate_user(user, actor)


def approve_user(actor: User | None, user: User, values: dict) -> None:
    """A person who signed in through single sign-on for the first time: give them a role (and a
    department) and let them in."""
    if not user.pending_approval:
        raise AccountRefused(_("This account is not waiting for approval."), status=409)
    data = _load(ApprovalArgs(), values)
    dept = _department(data.get("department_id"))
    old = {"role": user.role, "department": user.department_id}
    user.role, user.department_id = data["role"], dept.id if dept else None
    user.active, user.pending_approval = True, False
    person = _person(user)
    if person is None:
        db.session.add(Person(name=user.display_name, department_id=user.department_id, user_id=user.id))
    else:
        person.department_id = user.department_id
    record_audit(actor, "user.approve", "user", user.id, {"changes": {
        "role": [old["role"], user.role], "department": [old["department"], user.department_id]}})
    db.session.flush()


def reset_password(actor: User | None, user: User) -> str:
    """A new temporary password (returned once, shown once); the user's sign-ins and tokens end."""
    password = temporary_password(user.username)
    auth_ops.change_password(user, password, actor=actor, temporary=True)
    record_audit(actor, "user.password_reset", "user", user.id, {})
    db.session.flush()
    return password


def unlock_user(actor: User | None, user: User) -> dict:
    """Lift the sign-in slow-down of this username: its failed attempts inside the window are
    forgotten (auth.operations.sign_in_delay counts them), and the rate limiter's per address +
    username counters for the addresses they came from are cleared (webapp/auth/throttle.py). The
    per-address limit is not touched: it protects against whoever guessed, not against this user."""
    username = normalize_username(user.username)
    since = utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    failed = (LoginAttempt.username == username, LoginAttempt.success.is_(False), LoginAttempt.at >= since)
    addresses = {a for a in db.session.scalars(select(LoginAttempt.address).where(*failed).distinct()) if a}
    forgotten = db.session.execute(delete(LoginAttempt).where(*failed)).rowcount
    cleared = _clear_limiter(username, addresses)
    record_audit(actor, "user.unlock", "user", user.id, {"failed_sign_ins": forgotten, "addresses": len(addresses)})
    db.session.flush()
    return {"failed_sign_ins": forgotten, "addresses": len(addresses), "limiter_cleared": cleared}


def _clear_limiter(username: str, addresses: set[str]) -> bool:
    """Clear the "sign-in-account" counters (key: address|username) for these addresses."""
    if not addresses or not current_app.config.get("RATELIMIT_ENABLED", True):
        return False
    storage = getattr(limiter, "limiter", None)
    if storage is None:
        return False
    prefix = [p for p in (getattr(limiter, "_key_prefix", ""),) if p]
    try:
        for item in parse_many(current_app.config["LOGIN_LIMIT_PER_ADDRESS_AND_USERNAME"]):
            for address in addresses:
                storage.clear(item, *prefix, f"{address}|{username}", "sign-in-account")
    except Exception:  # noqa: BLE001  XXX: a limiter store that is down must not block the unlock
        current_app.logger.warning("could not clear the sign-in rate limiter for %s", username, exc_info=True)
        return False
    return True
