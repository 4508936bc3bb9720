"""Re-authentication for sensitive actions: "enter your password again".

A view decorated with `recent_password_required` runs only if this browser's sign-in entered the
password within REAUTH_AFTER_MINUTES (counted from the session's reauthenticated_at, else from its
sign-in when that was by password). Otherwise:

- a browser request is redirected to /reauth?next=... (for a POST: back to the page it came from,
  since a form's POST cannot be replayed by a redirect);
- an htmx request gets HX-Redirect to the same page;
- a JSON (API) request gets 401 with the code "reauth_required".

The page takes the password; a wrong one is a failed sign-in attempt (recorded, throttled and slowed
down like one: auth/throttle.py). A single-sign-on session whose user has no usable password is told
to sign in again with their work app, which counts as a fresh sign-in.

To protect another route:

    from webapp.auth.reauth import recent_password_required

    @bp.post("/<user_id>/role")
    @login_required
    @recent_password_required
    def change_role(user_id): ...
"""

from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from webapp.audit.operations import record_audit
from webapp.auth.loaders import current_session
from webapp.auth.operations import authenticate, normalize_username
from webapp.auth.throttle import slow_down
from webapp.core.errors import api_error
from webapp.core.models import utcnow
from webapp.extensions import db, limiter

bp = Blueprint("reauth", __name__)


def has_usable_password(user) -> bool:
    """False for an account made for single sign-on without a password: an empty hash, or one marked
    unusable with a leading "!" (no password can match it)."""
    return bool(user.password_hash) and not user.password_hash.startswith("!")


def password_entered_at(row):
    """When this sign-in last proved the password: a re-authentication, else a password sign-in."""
    if row is None:
        return None
    if row.reauthenticated_at is not None:
        return row.reauthenticated_at
    return row.created_at if (row.method or "password") == "password" else None


def is_recent(row) -> bool:
    at = password_entered_at(row)
    window = timedelta(minutes=current_app.config["REAUTH_AFTER_MINUTES"])
    return at is not None and utcnow() - at <= window


def _safe_path(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path


def _back_to() -> str:
    """Where to come back after re-entering the password: this page for a GET, else the page the
    form was on (a POST cannot be replayed by a redirect)."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    return (_safe_path(request.headers.get("HX-Current-URL")) or _safe_path(request.referrer)
            or url_for("home.index"))


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.is_json or request.accept_mimetypes.best == "application/json")


def recent_password_required(view):
    """Run `view` only if the password was entered recently (see the module's docstring). Put it
    under @login_required."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if is_recent(current_session()):
            return view(*args, **kwargs)
        target = url_for("reauth.page", next=_back_to())
        if request.headers.get("HX-Request") is not None:
            resp = current_app.response_class(status=401)
            resp.headers["HX-Redirect"] = target
            return resp
        if _wants_json():
            return api_error(401, "reauth_required",
                             _("Enter your password again to do this: open %(url)s in the browser.", url=target))
        flash(_("For your security, enter your password again to continue."), "info")
        return redirect(target, 303)

    return wrapped


class ReauthForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _failed(response) -> bool:
    return response.status_code == 401


def _address_and_username() -> str:  # the same key as the sign-in page's (auth/throttle.py)
    name = current_user.username if current_user.is_authenticated else ""
    return f"{get_remote_address()}|{normalize_username(name)}"


_per_address = limiter.shared_limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
                                    scope="sign-in-address", deduct_when=_failed, methods=["POST"])
_per_account = limiter.shared_limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS_AND_USERNAME"],
                                    scope="sign-in-account", key_func=_address_and_username,
                                    deduct_when=_failed, methods=["POST"])


def _render(form, status=200):
    row = current_session()
    sso_only = row is not None and (row.method or "password") != "password" and not has_usable_password(current_user)
    return render_template("auth/reauth.html", form=form, sso_only=sso_only,
                           next=_safe_path(request.args.get("next")) or url_for("home.index")), status


@bp.errorhandler(RateLimitExceeded)
def _throttled(_e):
    form = ReauthForm()
    form.password.errors = [_("Too many failed sign-ins. Wait a few minutes and try again.")]
    return _render(form, 429)


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
@_per_address
@_per_account
def page():
    form = ReauthForm()
    row = current_session()
    if not form.validate_on_submit():
        return _render(form, 400 if request.method == "POST" else 200)
    if row is None:  # a bearer token has no browser session to mark
        return _render(form, 400)
    username = current_user.username
    slow_down(username)
    user = authenticate(username, form.password.data, request.remote_addr)
    if user is None or user.id != current_user.id:
        db.session.commit()  # keep the failed attempt: it counts towards throttling like a sign-in
        form.password.errors = [_("Wrong password.")]
        return _render(form, 401)
    row = db.session.merge(row)
    row.reauthenticated_at = utcnow()
    record_audit(user, "session.reauthenticate", "user", user.id, {"session_id": row.id})
    db.session.commit()
    return redirect(_safe_path(request.args.get("next")) or url_for("home.index"), 303)
