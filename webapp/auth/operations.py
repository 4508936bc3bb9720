"""Sign-in, sessions, tokens and accounts. Operations flush; the caller commits."""

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from webapp.audit.operations import record_audit
from webapp.auth.models import ROLES, ApiToken, LoginAttempt, User, UserSession, hash_token
from webapp.auth.passwords import password_problems
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.org.models import Department, Person


def normalize_username(username: str | None) -> str:
    # A NUL can be typed on no keyboard and stored in no PostgreSQL text column: it becomes U+FFFD in
    # the name looked up and recorded, so such an attempt is simply a failed (and throttled) one.
    return (username or "").replace("\x00", "\ufffd").strip().lower()[:80]


def sign_in_delay(username: str) -> float:
    """Seconds to wait before answering a sign-in for this username: none until it collected
    LOGIN_SLOWDOWN_AFTER failures (from any address) inside the window, then doubling from a quarter
    second up to LOGIN_SLOWDOWN_MAX_SECONDS. Every answer waits, the right password's too (else the
    wait would tell a wrong guess from a right one), but the owner is never refused."""
    cfg = current_app.config
    since = utcnow() - timedelta(seconds=cfg["LOGIN_WINDOW_SECONDS"])
    failures = db.session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == normalize_username(username), LoginAttempt.success.is_(False),
        LoginAttempt.at >= since)) or 0
    over = failures - cfg["LOGIN_SLOWDOWN_AFTER"]
    if over < 0:
        return 0.0
    return min(cfg["LOGIN_SLOWDOWN_MAX_SECONDS"], 0.25 * 2 ** min(over, 16))


def prune_login_attempts() -> int:
    """Forget sign-in attempts and ended sessions older than LOGIN_ATTEMPTS_KEEP_DAYS."""
    before = utcnow() - timedelta(days=current_app.config["LOGIN_ATTEMPTS_KEEP_DAYS"])
    gone = db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < before)).rowcount
    db.session.execute(delete(UserSession).where(UserSession.ended_at < before))
    return gone


def authenticate(username: str, password: str, address: str | None) -> User | None:
    """The user for these credentials, or None. Every attempt is recorded (the caller commits, also
    on failure), and old attempts are pruned. Throttling is the views' (webapp/auth/throttle.py)."""
    username = normalize_username(username)
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    ok = user is not None and user.active and user.check_password(password or "")
    if ok:
        user.last_sign_in_at = utcnow()  # shown on the account's administration page
    prune_login_attempts()
    db.session.add(LoginAttempt(username=username, address=address, success=ok))
    db.session.flush()
    return user if ok else None


def start_session(user: User) -> str:
    """A new browser sign-in; returns the id for the signed cookie (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=hash_token(raw)))
    db.session.flush()
    return raw


def live_session(raw: str | None) -> UserSession | None:
    if not raw or not isinstance(raw, str):
        return None
    return db.session.execute(select(UserSession).where(
        UserSession.token_hash == hash_token(raw), UserSession.ended_at.is_(None))).scalar_one_or_none()


def end_session(raw: str | None) -> None:
    """Sign-out: this browser's sign-in ends, also for any copy of its cookie."""
    row = live_session(raw)
    if row is not None:
        row.ended_at = utcnow()
        db.session.flush()


def end_sessions(user: User, actor: User | None = None, keep: str | None = None) -> int:
    """End every sign-in of this user and revoke every bearer token (for a password change, a disabled
    account, a suspected theft). `keep` spares one browser session: the one changing its password."""
    now = utcnow()
    sessions = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep:
        sessions = sessions.where(UserSession.token_hash != hash_token(keep))
    ended = db.session.execute(sessions.values(ended_at=now)).rowcount
    revoked = db.session.execute(update(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)).rowcount
    record_audit(actor, "user.sessions_ended", "user", user.id, {"sessions": ended, "tokens": revoked})
    db.session.flush()
    return ended + revoked


def change_password(user: User, new_password: str, actor: User | None = None, keep: str | None = None,
                    temporary: bool = False) -> None:
    """A new password ends every other sign-in and every token of the user. A `temporary` one (set
    by an administrator) must be replaced at the next sign-in; the user's own choice clears that."""
    problems = password_problems(new_password, user)
    if problems:
        raise AccountError(" ".join(problems))
    user.set_password(new_password)
    user.password_changed_at = utcnow()
    user.must_change_password = temporary
    record_audit(actor, "user.password_changed", "user", user.id, {"temporary": True} if temporary else {})
    end_sessions(user, actor, keep=keep)


def deactivate_user(user: User, actor: User | None = None) -> None:
    """A disabled account can no longer sign in, and its open sessions and tokens end now."""
    user.active = False
    record_audit(actor, "user.deactivate", "user", user.id, {})
    end_sessions(user, actor)


def activate_user(user: User, actor: User | None = None) -> None:
    """A disabled account may sign in again (its history was never touched); sessions stay ended."""
    user.active = True
    record_audit(actor, "user.activate", "user", user.id, {})
    db.session.flush()


def token_expiry():
    return utcnow() + timedelta(hours=current_app.config["API_TOKEN_LIFETIME_HOURS"])


def issue_token(user: User, device_name: str | None) -> str:
    raw = ApiToken.generate()
    db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(raw), device_name=device_name,
                            expires_at=token_expiry()))
    record_audit(user, "token.issue", "user", user.id, {"device_name": device_name})
    db.session.flush()
    return raw


def refresh_token(token: ApiToken) -> str:
    """A new token for the same user and device, with a new lifetime; the old one is revoked."""
    raw = ApiToken.generate()
    token.revoked_at = utcnow()
    db.session.add(ApiToken(user_id=token.user_id, token_hash=hash_token(raw), device_name=token.device_name,
                            expires_at=token_expiry()))
    record_audit(token.user, "token.refresh", "user", token.user_id, {"token_id": token.id})
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
                locale: str | None = None, mobile: str | None = None, must_change_password: bool = False,
                actor: User | None = None) -> User:
    username = username.strip().lower()
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    problems = password_problems(password, username=username)
    if problems:
        raise AccountError(" ".join(problems))
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
                department_id=dept.id if dept else None, email=email, locale=locale, mobile=mobile,
                must_change_password=must_change_password, password_changed_at=utcnow())
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    db.session.add(Person(name=user.display_name, department_id=user.department_id, user_id=user.id,
                          position=None))
    record_audit(actor, "user.create", "user", user.id, {"username": username, "role": role,
                                                          "department": dept.id if dept else None})
    db.session.flush()
    return user
