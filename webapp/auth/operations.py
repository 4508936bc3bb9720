"""Sign-in, throttling, tokens and accounts. Operations flush; the caller commits."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from webapp.audit.operations import record_audit
from webapp.auth.models import ROLES, ApiToken, LoginAttempt, User, hash_token
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.org.models import Department, Person


class Throttled(Exception):
    pass


def is_throttled(username: str, address: str | None) -> bool:
    """Too many failures for this username, or from this address, inside the window."""
    cfg = current_app.config
    since = utcnow() - timedelta(seconds=cfg["LOGIN_WINDOW_SECONDS"])
    fails = select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.success.is_(False), LoginAttempt.at >= since
    )
    by_name = db.session.scalar(fails.where(LoginAttempt.username == username.lower()))
    by_addr = db.session.scalar(fails.where(LoginAttempt.address == address)) if address else 0
    limit = cfg["LOGIN_MAX_FAILURES"]
    return by_name >= limit or by_addr >= limit * 4


def authenticate(username: str, password: str, address: str | None) -> User | None:
    """The user for these credentials, or None. Raises Throttled when locked out; every attempt
    is recorded (the caller commits, also on failure)."""
    # A NUL can be typed on no keyboard and stored in no PostgreSQL text column: it becomes U+FFFD in
    # the name looked up and recorded, so such an attempt is simply a failed (and throttled) one.
    username = (username or "").replace("\x00", "\ufffd").strip().lower()
    if is_throttled(username, address):
        raise Throttled()
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    ok = user is not None and user.active and user.check_password(password or "")
    db.session.add(LoginAttempt(username=username, address=address, success=ok))
    db.session.flush()
    return user if ok else None


def issue_token(user: User, device_name: str | None) -> str:
    raw = ApiToken.generate()
    db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(raw), device_name=device_name))
    record_audit(user, "token.issue", "user", user.id, {"device_name": device_name})
    db.session.flush()
    return raw


def revoke_token(token: ApiToken) -> None:
    token.revoked_at = utcnow()
    record_audit(token.user, "token.revoke", "user", token.user_id, {"token_id": token.id})
    db.session.flush()


class AccountError(ValueError):
    pass


def create_user(username: str, role: str, password: str, department_code: str | None = None,
                display_name: str | None = None, email: str | None = None,
                locale: str | None = None) -> User:
    username = username.strip().lower()
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise AccountError("password must have at least 8 characters")
    if db.session.execute(select(User.id).where(User.username == username)).first():
        raise AccountError(f"user {username!r} exists")
    dept = None
    if department_code:
        dept = db.session.execute(select(Department).where(Department.code == department_code)).scalar()
        if dept is None:
            raise AccountError(f"no department with code {department_code!r}")
    if role in ("dept_head", "staff") and dept is None:
        raise AccountError(f"role {role} needs --department")
    user = User(username=username, role=role, display_name=display_name or username,
                department_id=dept.id if dept else None, email=email, locale=locale)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    db.session.add(Person(name=user.display_name, department_id=user.department_id, user_id=user.id,
                          position=None))
    record_audit(None, "user.create", "user", user.id, {"username": username, "role": role})
    db.session.flush()
    return user
