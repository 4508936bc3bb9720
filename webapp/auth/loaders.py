"""How Flask-Login finds the user: the session cookie for browsers, a bearer token for the API.

An API request that carries a bearer header is authenticated by that token alone: its session
cookie, if any, is ignored, which is why such a request may skip the CSRF check (webapp/__init__.py).
A browser session counts only while its server-side record (UserSession) is live.
"""

from flask import current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import user_loaded_from_request
from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import select

from webapp.auth.models import ApiToken, User, hash_token
from webapp.core.models import utcnow
from webapp.core.views import view_marked
from webapp.extensions import db, login_manager

SESSION_KEY = "sid"  # the session cookie's key for the id of its UserSession


def background(view):
    """Mark a view that a page asks on its own, with nobody at the keyboard (a poll): it does not
    count as use, so it never renews the sign-in — a tab left open does not keep one alive."""
    view.background = True
    return view


def uses_bearer(req) -> bool:
    """An API request that authenticates with a bearer token (and only with it)."""
    return req.path.startswith("/api/") and req.headers.get("Authorization", "").startswith("Bearer ")


@login_manager.user_loader
def load_user(user_id: str):
    """The cookie's user while its session record is live; renews the session (sliding expiry, at
    most hourly: auth.operations.renew_session) unless a page asked in the background (`background`).
    When the cookie no longer counts, g.auth_error says why, for the API's 401 (webapp/__init__.py):
    account_disabled, session_expired or signed_out."""
    from webapp.auth.operations import find_session, renew_session, session_expired

    if uses_bearer(request):
        return None  # the token decides; a bogus token with a good cookie is no sign-in
    user = db.session.get(User, user_id) if isinstance(user_id, str) else None
    row = find_session(session.get(SESSION_KEY))
    if user is not None and not user.active:
        g.auth_error = "account_disabled"
        return None
    if row is None or row.user_id != user_id or user is None:
        g.auth_error = "signed_out"
        return None
    if row.ended_at is not None:
        g.auth_error = "signed_out"
        return None
    if session_expired(row):
        g.auth_error = "session_expired"
        return None
    in_use = not view_marked(current_app, request.endpoint, "background")
    if (in_use and renew_session(row)) or not session.permanent:
        session.permanent = True  # also for a sign-in that did not ask for it (single sign-on, say)
        session.modified = True  # the cookie goes out again with a new expiry
    g.user_session = row
    return user


def current_session():
    """The UserSession row of this request's browser sign-in (None for a bearer token or no sign-in)."""
    from flask_login import current_user

    if not current_user.is_authenticated:
        return None
    return g.get("user_session")


@login_manager.request_loader
def load_user_from_token(req):
    if not uses_bearer(req):
        return None
    token = bearer_token()
    if token is None or token.revoked_at is not None or not token.user.active:
        g.auth_error = "invalid_token"
        return None
    if token.expires_at <= utcnow():
        g.auth_error = "token_expired"
        return None
    return token.user


def bearer_token(raw: str | None = None) -> ApiToken | None:
    """The token row for `raw`, by default the one in the request's Authorization header."""
    if raw is None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        raw = header[7:].strip()
    return db.session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(raw))).scalar_one_or_none()


def refusal() -> tuple[str, str]:
    """(code, message in the user's language) for a request that is not signed in: the API's 401."""
    from flask_babel import gettext as _

    code = g.get("auth_error") or ("session_expired" if request.environ.get(EXPIRED_COOKIE) else "unauthorized")
    messages = {
        "token_expired": lambda: _("Your sign-in on this device has expired. Sign in again to get a new token."),
        "invalid_token": lambda: _("This token is not valid: it was revoked or never issued. Sign in again."),
        "account_disabled": lambda: _("Your account has been disabled by an administrator, so this device can no "
                                      "longer sync. Nothing recorded on it is lost: export the unsynced records "
                                      "and give the file to your administrator."),
        "session_expired": lambda: _("Your sign-in has expired. Sign in again to sync; nothing on this device "
                                     "is lost."),
        "signed_out": lambda: _("This device was signed out. Sign in again to sync; nothing on this device "
                                "is lost."),
    }
    return code, messages.get(code, lambda: _("Please sign in."))()


EXPIRED_COOKIE = "supervision.session_cookie_expired"


class NoCookieForBearerSessions(SecureCookieSessionInterface):
    """A request authenticated by a bearer token must not leave a session cookie behind, or the
    token's revocation would not end access for that client.

    A session cookie whose signature is older than the session lifetime opens an empty session, as
    Flask's does, but is noted, so the API can answer "session_expired" rather than "unauthorized"."""

    def open_session(self, app, request):
        opened = super().open_session(app, request)
        value = request.cookies.get(self.get_cookie_name(app))
        serializer = self.get_signing_serializer(app)
        if value and not opened and serializer is not None:  # refused or empty: was it too old?
            try:
                serializer.loads(value, max_age=int(app.permanent_session_lifetime.total_seconds()))
            except SignatureExpired:
                request.environ[EXPIRED_COOKIE] = True
            except BadSignature:
                pass
        return opened

    def save_session(self, app, session, response):
        if g.get("login_via_token") or uses_bearer(request):
            return None
        return super().save_session(app, session, response)


@user_loaded_from_request.connect
def _mark_token_login(app, user=None):
    g.login_via_token = True
