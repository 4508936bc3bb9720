"""The password policy: long enough, not a common one, not the username. No composition rules
(NIST SP 800-63B): "Summer2026!" passes any "upper, digit, symbol" rule and is guessed first.

The common-password list (webapp/auth/data/, from Django, BSD licence) is read once, on first use.
"""

import gzip
from functools import lru_cache
from pathlib import Path

from flask import current_app, has_app_context
from flask_babel import gettext as _

MAX_LENGTH = 200  # hashing a megabyte would be a cheap denial of service
DEFAULT_MIN_LENGTH = 10
COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip())


def min_length() -> int:
    if has_app_context():
        return int(current_app.config.get("PASSWORD_MIN_LENGTH", DEFAULT_MIN_LENGTH))
    return DEFAULT_MIN_LENGTH


def password_problems(password: str | None, user=None, username: str | None = None) -> list[str]:
    """What is wrong with `password` for `user` (or for a new account's `username`), in the user's
    language; an empty list means it may be used."""
    password = password if isinstance(password, str) else ""
    problems = []
    shortest = min_length()
    if len(password) < shortest:
        problems.append(_("The password must have at least %(n)s characters.", n=shortest))
    if len(password) > MAX_LENGTH:
        problems.append(_("The password must have at most %(n)s characters.", n=MAX_LENGTH))
    if "\x00" in password:
        problems.append(_("The password contains a character that cannot be typed."))
    lowered = password.strip().lower()
    if lowered and lowered in common_passwords():
        problems.append(_("This password is too common: it is among the first any attacker tries."))
    name = (username or getattr(user, "username", None) or "").strip().lower()
    # A username of a letter or two is inside many good passwords: for those, only equality counts.
    if name and lowered and (lowered == name or (len(name) >= 3 and name in lowered)):
        problems.append(_("The password must not contain the username."))
    return problems
