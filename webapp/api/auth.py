from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp import api_error
from webapp.api import bp
from webapp.api.helpers import BadPayload, load_json
from webapp.api.schemas import TokenArgs, UserSchema
from webapp.auth.loaders import bearer_token
from webapp.auth.operations import Throttled, authenticate, issue_token, revoke_token
from webapp.extensions import db


@bp.errorhandler(BadPayload)
def _bad_payload(e: BadPayload):
    return e.response


@bp.get("/health")
def health():
    return jsonify(status="ok")


@bp.post("/auth/token")
def create_token():
    args = load_json(TokenArgs())
    try:
        user = authenticate(args["username"], args["password"], request.remote_addr)
    except Throttled:
        db.session.rollback()
        return api_error(429, "throttled", _("Too many failed sign-ins. Wait 15 minutes and try again."))
    if user is None:
        db.session.commit()  # keep the failed attempt for throttling
        return api_error(401, "bad_credentials", _("Wrong username or password."))
    token = issue_token(user, args["device_name"])
    db.session.commit()
    return jsonify(token=token, user=UserSchema(only=("id", "username", "role")).dump(user)), 201


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
