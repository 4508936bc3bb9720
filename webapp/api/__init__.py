"""/api/v1: JSON endpoints for the phone and other clients (see shared sync-protocol.md)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

import webapp.api.photos  # noqa: E402,F401
from webapp.api import auth, openapi, rectifications, sync  # noqa: E402,F401
