"""One's own account (我的账户): signed-in devices (browser sessions) and API tokens, each ended here;
a link to the password page. Every signed-in user, for themselves only (authz "account.manage")."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.account.devices import describe_device
from webapp.auth.loaders import SESSION_KEY, current_session
from webapp.auth.models import ApiToken, UserSession
from webapp.auth.operations import revoke_other_sessions, revoke_session, revoke_token, user_sessions
from webapp.authz import can, require
from webapp.core.models import utcnow
from webapp.extensions import db

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.before_request
@login_required
def _signed_in_only():
    require(current_user, "account.manage")


def _tokens():
    now = utcnow()
    return db.session.scalars(select(ApiToken).where(
        ApiToken.user_id == current_user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
        .order_by(ApiToken.created_at.desc())).all()


@bp.get("/")
def index():
    here = current_session()
    devices = [{"row": r, "name": describe_device(r.user_agent), "current": here is not None and r.id == here.id,
                "sso": (r.method or "password") != "password"} for r in user_sessions(current_user)]
    return render_template("account/index.html", devices=devices, tokens=_tokens(),
                           others=sum(1 for d in devices if not d["current"]))


def _own(model, pk: int):
    row = db.session.get(model, pk) if 0 < pk < 2**63 else None  # beyond a BIGINT: no such row
    if row is None or not can(current_user, "account.manage", row.user):
        abort(404)  # another user's sign-in: not yours to see
    return row


@bp.post("/sessions/<int:session_id>/revoke")
def revoke_device(session_id):
    row = _own(UserSession, session_id)
    if row.ended_at is None:
        revoke_session(row, current_user)
        db.session.commit()
    here = current_session()
    if here is not None and here.id == session_id:  # signed out this very browser
        session.clear()
        return redirect(url_for("auth.login"), 303)
    flash(_("That device is signed out."), "info")
    return redirect(url_for(".index"), 303)


@bp.post("/sessions/revoke-others")
def revoke_others():
    n = revoke_other_sessions(current_user, session.get(SESSION_KEY), current_user)
    db.session.commit()
    flash(_("%(n)s other devices signed out.", n=n), "info")
    return redirect(url_for(".index"), 303)


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_api_token(token_id):
    token = _own(ApiToken, token_id)
    if token.revoked_at is None:
        revoke_token(token)
        db.session.commit()
    flash(_("The token is revoked."), "info")
    return redirect(url_for(".index"), 303)


# ---- notification preferences (docs/messages.md): one's own only ---------------------------------------

def _preferences_page(status=200, errors=None, values=None):
    from webapp.notifications.operations import KINDS
    from webapp.notifications.preferences import preference_of
    from webapp.outbox.workapps import configured_providers

    pref = preference_of(current_user.id)
    if values is None:
        off = (pref.off if pref else None) or {}
        values = {"email": [k for k in KINDS if k not in (off.get("email") or [])],
                  "workapp": [k for k in KINDS if k not in (off.get("workapp") or [])],
                  "quiet_start": pref.quiet_start if pref else "", "quiet_end": pref.quiet_end if pref else "",
                  "email_digest": bool(pref and pref.email_digest)}
    labels = {k: str(v).replace("%(subject)s", "").strip().rstrip(":：").strip() for k, v in KINDS.items()}
    return render_template("account/notifications.html", kinds=labels, values=values, errors=errors or {},
                           workapps=bool(configured_providers(current_app.config))), status


@bp.get("/notifications")
def notifications():
    return _preferences_page()


@bp.post("/notifications")
def save_notifications():
    from marshmallow import ValidationError

    from webapp.core.formdata import form_to_dict, translate_errors
    from webapp.notifications.operations import KINDS
    from webapp.notifications.preferences import set_preferences
    from webapp.notifications.schemas import PreferencesArgs

    raw = form_to_dict(request.form, lists=("email", "workapp"))
    try:
        data = PreferencesArgs().load(raw)
    except ValidationError as e:
        raw.setdefault("email_digest", False)
        return _preferences_page(400, translate_errors(e.messages), raw)
    off = {c: [k for k in KINDS if k not in data[c]] for c in ("email", "workapp")}
    set_preferences(current_user, off, data["quiet_start"], data["quiet_end"], data["email_digest"])
    db.session.commit()
    flash(_("Your notification preferences were saved."), "info")
    return redirect(url_for(".notifications"), 303)
