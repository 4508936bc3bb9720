"""/setup: the first administrator, created in the browser on a fresh installation."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from webapp.auth.loaders import SESSION_KEY
from webapp.auth.operations import AccountError, start_session
from webapp.extensions import db
from webapp.i18n import current_locale_code
from webapp.setup.operations import create_first_admin, setup_open, setup_token_ok

bp = Blueprint("setup", __name__)


class SetupForm(FlaskForm):
    setup_token = PasswordField(_l("Setup token"), validators=[Optional(), Length(max=200)])
    username = StringField(_l("Username"), validators=[
        DataRequired(), Length(max=80),
        Regexp(r"^[A-Za-z0-9_.@-]+$", message=_l("Use letters, digits and . _ @ - only."))])
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=80)])
    email = EmailField(_l("Email"), validators=[Optional(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])


@bp.route("/setup", methods=["GET", "POST"])
def first_admin():
    if not setup_open():
        abort(404)
    form = SetupForm()
    status = 200
    if form.validate_on_submit():
        if not setup_token_ok(form.setup_token.data):
            form.setup_token.errors = [_("This setup token is not the one the server was given.")]
            status = 403
        else:
            try:
                user = create_first_admin(form.username.data, form.display_name.data.strip(), form.password.data,
                                          email=form.email.data or None, locale=current_locale_code())
            except AccountError as e:
                db.session.rollback()
                form.password.errors = [str(e)]
                status = 400
            else:
                sid = start_session(user)
                db.session.commit()
                session.clear()
                session.permanent = True
                login_user(user)
                session[SESSION_KEY] = sid
                return redirect(url_for("admin.index"))
    elif form.is_submitted():
        status = 400
    return render_template("setup/first_admin.html", form=form,
                           ask_token=bool(current_app.config.get("SETUP_TOKEN"))), status


@bp.app_context_processor
def _setup_pending():
    """A fresh installation's sign-in page points to the setup: there is no one to sign in yet."""
    return {"setup_pending": request.endpoint == "auth.login" and setup_open()}
