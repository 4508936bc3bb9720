"""Single sign-on: who a provider's profile is here, and the sign-in that follows. Operations flush;
the view commits.

Mapping (docs/sign-in.md): the linked identity (provider, subject) first; else, once, a user whose
verified email (OIDC) or mobile number (all providers) matches, and that identity is linked to them
from then on. Two accounts matching is no match: nobody is guessed. An unknown person is refused or,
by the administrator's setting `sso_unknown_users`, created as a `staff` account that waits for
approval (inactive, no session, no department: it sees nothing until an administrator decides).
"""

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from webapp.audit.operations import record_audit
from webapp.auth.models import LoginAttempt, User, UserIdentity
from webapp.core.models import utcnow
from webapp.core.settings import get_setting, set_setting
from webapp.core.text import clean_text
from webapp.extensions import db
from webapp.org.models import Person
from webapp.sso.providers import Profile

UNKNOWN_USER_POLICIES = ("refuse", "create_pending")
SETTING_UNKNOWN_USERS = "sso_unknown_users"

_MOBILE_NOISE = re.compile(r"[\s\-().\u00a0\u3000]")
_MOBILE = re.compile(r"^\+?\d{5,20}$")


def normalize_mobile(value: str | None) -> str | None:
    """A comparable mobile number: without spaces, dashes, brackets and a mainland-China prefix
    (+86, 0086, 86 before 11 digits); other country codes keep their "+". None when not a number."""
    if not value or not isinstance(value, str):
        return None
    number = _MOBILE_NOISE.sub("", value)
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            number = number[len(prefix):]
            break
    else:
        if number.startswith("86") and len(number) == 13:
            number = number[2:]
    return number if _MOBILE.match(number) else None


def unknown_user_policy() -> str:
    value = get_setting(SETTING_UNKNOWN_USERS, "refuse")
    return value if value in UNKNOWN_USER_POLICIES else "refuse"


def set_unknown_user_policy(policy: str, actor: User) -> bool:
    """Store the policy; True when it changed (and an audit entry was written)."""
    if policy not in UNKNOWN_USER_POLICIES:
        raise ValueError(policy)
    before = unknown_user_policy()
    if before == policy:
        return False
    set_setting(SETTING_UNKNOWN_USERS, policy, actor)
    record_audit(actor, "sso.settings", "app_setting", SETTING_UNKNOWN_USERS, {"from": before, "to": policy})
    db.session.flush()
    return True


@dataclass
class Outcome:
    """How a single sign-in ended: `ok` (sign the user in), `pending` (waits for approval; also right
    after `created`), `disabled`, `unknown` (refused by policy) or `ambiguous` (several matches)."""

    status: str
    user: User | None = None
    created: bool = False


def _by_email(email: str) -> list[User]:
    return list(db.session.scalars(select(User).where(func.lower(User.email) == email.strip().lower()).limit(2)))


def _by_mobile(mobile: str) -> list[User]:
    wanted = normalize_mobile(mobile)
    if not wanted:
        return []
    # Stored numbers may be written any way ("138 0013 8000", "+86-138…"): compare them normalised.
    # Only the last four digits narrow the search in SQL.
    rows = db.session.execute(select(User.id, User.mobile).where(
        User.mobile.is_not(None), User.mobile.contains(wanted[-4:]))).all()
    ids = [uid for uid, stored in rows if normalize_mobile(stored) == wanted]
    return [db.session.get(User, uid) for uid in ids[:2]]


def find_user(provider: str, profile: Profile) -> tuple[User | None, UserIdentity | None, str]:
    """(user, identity, how): how is "identity", "email", "mobile", "ambiguous" or "none"."""
    identity = db.session.execute(select(UserIdentity).where(
        UserIdentity.provider == provider, UserIdentity.subject == profile.subject)).scalar_one_or_none()
    if identity is not None:
        return identity.user, identity, "identity"
    for how, value, finder in (("email", profile.email, _by_email), ("mobile", profile.mobile, _by_mobile)):
        if not value:
            continue
        found = finder(value)
        if len(found) > 1:
            return None, None, "ambiguous"
        if found:
            return found[0], None, how
    return None, None, "none"


def link_identity(user: User, provider: str, subject: str, how: str) -> UserIdentity:
    identity = UserIdentity(user_id=user.id, provider=provider, subject=subject)
    db.session.add(identity)
    record_audit(None, "sso.identity_linked", "user", user.id, {"provider": provider, "matched_by": how})
    db.session.flush()
    return identity


def _username_for(provider: str, subject: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]", "", subject.lower())[:40] or secrets.token_hex(4)
    base = f"{provider}-{slug}"
    name, n = base, 1
    while db.session.execute(select(User.id).where(User.username == name)).first():
        n += 1
        name = f"{base}-{n}"[:80]
    return name


def create_pending_user(provider: str, profile: Profile) -> User:
    """A `staff` account for a person the provider vouches for but nobody here knows yet: inactive
    and pending until an administrator approves it; no department, so it would see nothing anyway;
    a random password nobody knows (it signs in through the provider)."""
    username = _username_for(provider, profile.subject)
    name = clean_text(profile.name or "").strip()[:80] or username
    user = User(username=username, role="staff", display_name=name, department_id=None, active=False,
                pending_approval=True, email=profile.email, mobile=normalize_mobile(profile.mobile))
    user.set_password(secrets.token_urlsafe(32))
    db.session.add(user)
    db.session.flush()
    db.session.add(Person(name=name, department_id=None, user_id=user.id, position=None))
    record_audit(None, "user.create", "user", user.id, {"username": username, "role": "staff",
                                                       "pending_approval": True, "provider": provider})
    db.session.flush()
    return user


def sign_in_with_profile(provider: str, profile: Profile, address: str | None) -> Outcome:
    """Decide what a profile confirmed by `provider` gets. Records the attempt and audit entries;
    the caller starts the session (only for `ok`) and commits."""
    user, identity, how = find_user(provider, profile)
    now = utcnow()
    if user is None:
        if how != "ambiguous" and unknown_user_policy() == "create_pending":
            user = create_pending_user(provider, profile)
            link_identity(user, provider, profile.subject, "created")
            return Outcome("pending", user, created=True)
        record_audit(None, "sso.refused", "user", "", {"provider": provider, "reason": how if how == "ambiguous"
                                                       else "unknown"})
        db.session.flush()
        return Outcome("ambiguous" if how == "ambiguous" else "unknown")
    if user.pending_approval:
        return Outcome("pending", user)
    if not user.active:
        db.session.add(LoginAttempt(username=user.username, address=address, success=False))
        record_audit(user, "sso.refused", "user", user.id, {"provider": provider, "reason": "disabled"})
        db.session.flush()
        return Outcome("disabled", user)
    if identity is None:
        identity = link_identity(user, provider, profile.subject, how)
    identity.last_used_at = now
    user.last_sign_in_at = now
    db.session.add(LoginAttempt(username=user.username, address=address, success=True))
    record_audit(user, "sso.sign_in", "user", user.id, {"provider": provider})
    db.session.flush()
    return Outcome("ok", user)
