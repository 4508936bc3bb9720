"""The phone app's shell page, its session probe and the service worker.

The page at /m/ is a static shell: everything it shows is rendered in the browser from IndexedDB,
so it works offline once the service worker has cached it. /m/visit/<id> etc. are routed in the
browser; the server answers every /m/... path with the same shell."""

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from webapp.api.helpers import BadPayload, load_json
from webapp.core.database import reads_first, write_retrying
from webapp.core.errors import api_error
from webapp.extensions import db
from webapp.mobile.importer import ImportRefused, apply_import, import_author, store_import_photos
from webapp.mobile.schemas import ImportArgs
from webapp.mobile.strings import app_strings
from webapp.photos.operations import rejection_message, storage_failure
from webapp.photos.storage import StorageError

bp = Blueprint("mobile", __name__)

# Files the service worker precaches, relative to static/.
SHELL_STATIC = (
    "css/app.css",
    "js/app/main.js", "js/app/db.js", "js/app/outbox.js", "js/app/sync.js", "js/app/photos.js",
    "js/app/ui.js", "js/app/status.js", "js/app/views/home.js", "js/app/views/visit.js",
    "js/app/views/finding.js", "js/app/views/widgets.js", "js/app/score.js", "js/app/views/checkin.js",
    "js/app/sketch.js", "js/app/views/signature.js",
    "js/app/views/visitlist.js", "js/app/views/complete.js", "js/app/views/people.js",
    "js/app/views/rectification.js",
    "js/app/views/answers.js",  # rich checklist items (docs/checklists.md)
    "vendor/idb-8.0.4.js",
    "icons/icon.svg", "icons/sprite.svg", "icons/icon-192.png", "icons/icon-512.png",
    "icons/icon-maskable-512.png", "manifest-phone.webmanifest",
)
MODULES = [f for f in SHELL_STATIC if f.endswith(".js")]


@lru_cache(maxsize=1)
def shell_version() -> str:
    """Changes whenever a shell file changes, so the browser installs a new service worker."""
    root = Path(current_app.static_folder)
    h = hashlib.sha256()
    # SHELL_BUILD lets an operator force every phone to fetch the shell again without a file change.
    h.update(str(current_app.config.get("SHELL_BUILD") or os.environ.get("SHELL_BUILD", "")).encode())
    for rel in (*SHELL_STATIC, "sw.js"):
        h.update(rel.encode())
        h.update((root / rel).read_bytes())
    h.update((Path(current_app.template_folder) / "mobile" / "app.html").read_bytes())
    return h.hexdigest()[:12]


def _user_info():
    return {"id": current_user.id, "username": current_user.username, "name": current_user.display_name,
            "role": current_user.role}


@bp.get("/m/")
@bp.get("/m/<path:_route>")
@login_required
def app(_route=None):
    boot = {"user": _user_info(), "version": shell_version(), **app_strings()}
    return render_template("mobile/app.html", boot=json.dumps(boot, ensure_ascii=False).replace("<", "\\u003c"),
                           modules=MODULES, version=shell_version())


@bp.get("/m/session.json")
def session_info():
    """The phone asks who it is signed in as and for a fresh CSRF token before it syncs
    (the cached shell may be days old)."""
    if not current_user.is_authenticated:
        from webapp.auth.loaders import refusal

        code, message = refusal()  # why: account_disabled, session_expired, signed_out (the phone says so)
        resp = api_error(401, code, message)
        resp.headers["Cache-Control"] = "no-store"
        return resp
    resp = jsonify({"user": _user_info(), "csrf_token": generate_csrf(), "version": shell_version()})
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/sw.js")
def service_worker():
    root = Path(current_app.static_folder)
    shell = [url_for("mobile.app"), *(url_for("static", filename=f) for f in SHELL_STATIC)]
    body = (root / "sw.js").read_text(encoding="utf-8")
    body = body.replace('"__VERSION__"', json.dumps(shell_version())).replace("[/*__SHELL__*/]", json.dumps(shell))
    resp = Response(body, mimetype="text/javascript")
    resp.headers["Service-Worker-Allowed"] = "/"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.errorhandler(BadPayload)
def _bad_payload(e: BadPayload):
    return e.response


@bp.post("/api/v1/sync/import")
@reads_first
@login_required
def sync_import():
    """Import a phone's "export unsynced data" file (a push body plus base64 photos): the photos
    are decoded and stored before the write transaction, which is run again on a deadlock."""
    doc = load_json(ImportArgs())
    user = current_user._get_current_object()
    try:
        author = import_author(user, doc)
        # End the transaction the request began (on SQLite it may hold the write lock since the
        # sign-in check): what follows until write_retrying only reads, then decodes.
        db.session.commit()
        statuses, uploads = store_import_photos(doc)
    except ImportRefused as e:
        db.session.rollback()
        return api_error(403, "forbidden", str(e))
    except StorageError as e:
        db.session.rollback()
        status, code = storage_failure(e)
        return api_error(status, code, rejection_message(code))
    return jsonify(write_retrying(lambda: apply_import(user, author, doc, statuses, uploads)))
