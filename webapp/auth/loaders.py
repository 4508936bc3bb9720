"""How Flask-Login finds the user: the session cookie for browsers, a bearer token for the API."""

from flask import g, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import user_loaded_from_request
from sqlalchemy import select

from webapp.auth.models import ApiToken, User, hash_token
from webapp.extensions import db, login_manager


@login_manager.user_loader
def load_user(user_id: str):
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


@login_manager.request_loader
def load_user_from_token(req):
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not request.path.startswith("/api/"):
        return None
    token = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(header[7:].strip()),
                               ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if token is None or not token.user.active:
        return None
    return token.user


def bearer_token() -> ApiToken | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(header[7:].strip()))
    ).scalar_one_or_none()



class NoCookieForBearerSessions(SecureCookieSessionInterface):
    """A request authenticated by a bearer token must not leave a session cookie behind, or the
    token's revocation would not end access for that client."""

    def save_session(self, app, session, response):
        if g.get("login_via_token"):
            return None
        return super().save_session(app, session, response)


@user_loaded_from_request.connect
def _mark_token_login(app, user=None):
    g.login_via_token = True
