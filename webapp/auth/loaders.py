"""How Flask-Login finds the user: the session cookie for browsers, a bearer token for the API.

An API request that carries a bearer header is authenticated by that token alone: its session
cookie, if any, is ignored, which is why such a request may skip the CSRF check (webapp/__init__.py).
A browser session counts only while its server-side record (UserSession) is live.
"""

from flask import g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import user_loaded_from_request
from sqlalchemy import select

from webapp.auth.models import ApiToken, User, hash_token
from webapp.core.models import utcnow
from webapp.extensions import db, login_manager

SESSION_KEY = "sid"  # the session cookie's key for the id of its UserSession


def uses_bearer(req) -> bool:
    """An API request that authenticates with a bearer token (and only with it)."""
    return req.path.startswith("/api/") and req.headers.get("Authorization", "").startswith("Bearer ")


@login_manager.user_loader
def load_user(user_id: str):
    from webapp.auth.operations import live_session

    if uses_bearer(request):
        return None  # the token decides; a bogus token with a good cookie is no sign-in
    row = live_session(session.get(SESSION_KEY))
    if row is None or row.user_id != user_id:
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


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


class NoCookieForBearerSessions(SecureCookieSessionInterface):
    """A request authenticated by a bearer token must not leave a session cookie behind, or the
    token's revocation would not end access for that client."""

    def save_session(self, app, session, response):
        if g.get("login_via_token") or uses_bearer(request):
            return None
        return super().save_session(app, session, response)


@user_loaded_from_request.connect
def _mark_token_login(app, user=None):
    g.login_via_token = True
