"""Moved to webapp.authz (the one authorization module); kept so older imports keep working."""

from webapp.authz import *  # noqa: F401,F403
from webapp.authz import can_see, get_scoped_or_404, scope_clause, scoped  # noqa: F401
