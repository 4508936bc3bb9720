from flask import jsonify, request
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required

from webapp.api import bp
from webapp.api.helpers import BadPayload, load_json
from webapp.api.schemas import TokenArgs, UserSchema
from webapp.auth.loaders import bearer_token
from webapp.auth.operations import authenticate, issue_token, refresh_token, revoke_token
from webapp.auth.throttle import sign_in_limits, slow_down
from webapp.core.errors import api_error
from webapp.extensions import db


@bp.errorhandler(BadPayload)
def _bad_payload(e: BadPayload):
    return e.response


@bp.get("/health")
def health():
    return jsonify(status="ok")


@bp.errorhandler(RateLimitExceeded)
def _throttled(_e):
    return api_error(429, "throttled", _("Too many failed sign-ins. Wait a few minutes and try again."))


def _token_response(raw: str, token_user, status: int):
    token = bearer_token(raw)
    return jsonify(token=raw, expires_at=token.expires_at.isoformat(),
                   user=UserSchema(only=("id", "username", "role")).dump(token_user)), status


@bp.post("/auth/token")
@sign_in_limits
def create_token():
    args = load_json(TokenArgs())
    slow_down(args["username"])
    user = authenticate(args["username"], args["password"], request.remote_addr)
    if user is None:
        db.session.commit()  # keep the failed attempt: it slows down this username
        return api_error(401, "bad_credentials", _("Wrong username or password."))
    raw = issue_token(user, args["device_name"])
    db.session.commit()
    return _token_response(raw, user, 201)


@bp.post("/auth/token/refresh")
@login_required
def refresh():
    """Swap the (unexpired) bearer token for a new one with a new lifetime."""
    token = bearer_token()
    if token is None:
        return api_error(400, "no_token", _("Send the token to refresh in the Authorization header."))
    raw = refresh_token(token)
    db.session.commit()
    return _token_response(raw, current_user, 200)


@bp.delete("/auth/token")
@login_required
def delete_token():
    token = bearer_token()
    if token is None or token.revoked_at is not None:
        return api_error(400, "no_token", _("Send the token to revoke in the Authorization header."))
    revoke_token(token)
    db.session.commit()
    return "", 204


@bp.get("/me")
@login_required
def me():
    return jsonify(user=UserSchema().dump(current_user))
