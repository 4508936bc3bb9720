"""First run: a fresh installation has no account at all; the first visitor names the company's
first administrator in the browser (no terminal needed). Once any account exists this is closed.

A deployment that must not be open even for that minute sets SETUP_TOKEN: the form then asks for it
(compared in constant time)."""

import hmac

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, select

from webapp.auth.models import User
from webapp.auth.operations import AccountError, create_user
from webapp.extensions import db


def setup_open() -> bool:
    """True while no account exists (the installation has not been set up)."""
    return not db.session.scalar(select(exists().where(User.id.is_not(None))))


def setup_token_ok(given: str | None) -> bool:
    expected = current_app.config.get("SETUP_TOKEN")
    if not expected:
        return True
    return hmac.compare_digest((given or "").encode(), expected.encode())


def create_first_admin(username: str, display_name: str, password: str, email: str | None = None,
                       locale: str | None = None) -> User:
    """The first administrator; refused once any account exists (also when two browsers race: the
    username is unique and the check runs again inside the transaction)."""
    if not setup_open():
        raise AccountError(_("This installation is already set up. Sign in instead."))
    return create_user(username, "admin", password, display_name=display_name, email=email, locale=locale)
