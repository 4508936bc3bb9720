from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from webapp.auth.loaders import SESSION_KEY, uses_bearer
from webapp.auth.operations import AccountError, authenticate, end_session, start_session
from webapp.auth.operations import change_password as set_new_password
from webapp.auth.passwords import MAX_LENGTH, password_problems
from webapp.auth.throttle import sign_in_limits, slow_down
from webapp.core.database import reads_first_view, sqlite_reading
from webapp.core.errors import api_error
from webapp.extensions import db
from webapp.i18n import SUPPORTED

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: an open redirect would help phishing."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.errorhandler(RateLimitExceeded)
def _throttled(_e):
    form = LoginForm()
    form.password.errors = [_("Too many failed sign-ins. Wait a few minutes and try again.")]
    return render_template("auth/login.html", form=form), 429


@bp.route("/login", methods=["GET", "POST"])
@sign_in_limits
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        slow_down(form.username.data)
        user = authenticate(form.username.data, form.password.data, request.remote_addr)
        if user is None:
            db.session.commit()  # keep the failed attempt: it slows down this username
            form.password.errors = [_("Wrong username or password.")]
            status = 401
        else:
            sid = start_session(user)
            db.session.commit()
            session.clear()
            session.permanent = True  # the cookie lasts SESSION_LIFETIME_DAYS: the phone stays signed in
            login_user(user)
            session[SESSION_KEY] = sid
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    end_session(session.get(SESSION_KEY))
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/locale")
def set_locale():
    code = request.form.get("locale")
    if code in SUPPORTED:
        session["locale"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")) or url_for("home.index"))


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])
    new = PasswordField(_l("New password"), validators=[DataRequired()])
    repeat = PasswordField(_l("Repeat the new password"), validators=[DataRequired()])


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Every signed-in user changes their own password here; a temporary one must be changed first."""
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data or ""):
            form.current.errors = [_("This is not your current password.")]
        elif form.new.data != form.repeat.data:
            form.repeat.errors = [_("The two new passwords differ.")]
        elif form.new.data == form.current.data:
            form.new.errors = [_("Choose a password other than the current one.")]
        else:
            form.new.errors = password_problems(form.new.data, current_user)
        if not (form.current.errors or form.new.errors or form.repeat.errors):
            try:
                set_new_password(current_user, form.new.data, actor=current_user, keep=session.get(SESSION_KEY))
            except AccountError as e:  # the same policy, checked again where it is enforced
                db.session.rollback()
                form.new.errors = [str(e)]
            else:
                db.session.commit()
                flash(_("Your password was changed. Your other sign-ins and devices were signed out."), "info")
                return redirect(url_for("home.index"))
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("auth/password.html", form=form, min_length=current_app.config["PASSWORD_MIN_LENGTH"],
                           forced=current_user.must_change_password), status


# Pages a user with a temporary password may still open: this one, sign-out, the language switch.
PASSWORD_CHANGE_EXEMPT = {"auth.change_password", "auth.logout", "auth.set_locale", "auth.login", "static",
                          "mobile.service_worker", "api.health", "api.create_token", "api.openapi"}


@bp.before_app_request
def _temporary_password_first():
    """While the password is a temporary one set by an administrator, nothing else opens."""
    if request.endpoint is None or request.endpoint in PASSWORD_CHANGE_EXEMPT:
        return None
    # This hook runs before the app's own (webapp/__init__.py), so say here that a GET only reads:
    # loading the user must not take SQLite's write lock. Nor a bearer token's sign-in (it only
    # reads; a cookie's may renew the session) for a view that reads first (a sync push): its write
    # transaction starts later (`write_retrying`); signed in under the writer lock, a push held it
    # twice, parsing its body under the first.
    with sqlite_reading(request.method in ("GET", "HEAD", "OPTIONS")
                        or (uses_bearer(request) and reads_first_view(current_app, request.endpoint))):
        must = current_user.is_authenticated and current_user.must_change_password
    if not must:
        return None
    if request.path.startswith("/api/"):
        return api_error(403, "password_change_required",
                         _("Your password is a temporary one. Sign in on the web and choose your own "
                           "password first."))
    return redirect(url_for("auth.change_password"))
