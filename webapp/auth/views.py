from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from webapp.auth.loaders import SESSION_KEY
from webapp.auth.operations import authenticate, end_session, start_session
from webapp.auth.throttle import sign_in_limits, slow_down
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
