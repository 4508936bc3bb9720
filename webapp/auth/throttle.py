"""Sign-in throttling, shared by the sign-in page and the API's token endpoint.

Failed sign-ins are counted by Flask-Limiter (storage: RATELIMIT_STORAGE_URI, Redis when several
workers serve) per client address and per address + username: whoever guesses slows only their own
address, and the owner signing in from elsewhere is never refused for someone else's failures. A
username that collects many failures from anywhere gets slower answers (auth.operations.sign_in_delay),
which holds back a guesser spread over many addresses without locking the owner out.
"""

import time

from flask import current_app, request
from flask_limiter.util import get_remote_address

from webapp.auth.operations import normalize_username, sign_in_delay
from webapp.extensions import db, limiter


def _failed(response) -> bool:
    return response.status_code == 401


def _address_and_username() -> str:
    if request.is_json:
        body = request.get_json(silent=True)
        username = body.get("username") if isinstance(body, dict) else None
    else:
        username = request.form.get("username")
    return f"{get_remote_address()}|{normalize_username(username if isinstance(username, str) else '')}"


def sign_in_limits(view):
    """Refuse (429) sign-ins from an address, or for a username from an address, that failed too often."""
    per_address = limiter.shared_limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
                                       scope="sign-in-address", deduct_when=_failed, methods=["POST"])
    per_account = limiter.shared_limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS_AND_USERNAME"],
                                       scope="sign-in-account", key_func=_address_and_username,
                                       deduct_when=_failed, methods=["POST"])
    return per_address(per_account(view))


def slow_down(username: str) -> None:
    """Wait out the username's slow-down, if any, before checking its password."""
    delay = sign_in_delay(username)
    if delay > 0:
        # XXX: never wait inside a transaction: on SQLite a POST holds the write lock from its first
        # query, and on PostgreSQL the wait would hold a pooled connection.
        db.session.rollback()
        time.sleep(delay)
