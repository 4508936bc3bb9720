"""/api/v1/sync/* and /api/v1/conflicts: the sync protocol over HTTP (thin; the rules live in sync/)."""

import json
from datetime import UTC, datetime

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError

from webapp.api import bp
from webapp.api.helpers import BadPayload, compressed
from webapp.core.database import WRITE_ATTEMPTS, reads_first, write_retrying
from webapp.core.errors import api_error
from webapp.evidence.operations import parse_device_time
from webapp.extensions import db
from webapp.sync_store.operations import (
    AlreadyResolved,
    DeviceTaken,
    NotAllowed,
    fetch_record,
    get_conflict,
    get_record,
    list_conflicts,
    older_visits,
    parse_mutations,
    pull_changes,
    push_mutations,
    resolve_conflict,
    wire_record,
)
from webapp.sync_store.policy import ResolutionError, stringify
from webapp.sync_store.schemas import (
    ConflictListArgs,
    ConflictSchema,
    OlderArgs,
    PullArgs,
    PushArgs,
    RecordArgs,
    ResolveArgs,
)


def _load(schema, payload):
    try:
        return schema.load(payload)
    except ValidationError as e:
        raise BadPayload(api_error(400, "invalid", _("Some fields are not valid."), stringify(e.messages))) from None


def _json_body(schema):
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise BadPayload(api_error(400, "bad_json", _("The body must be a JSON object.")))
    return _load(schema, payload)


@bp.get("/sync/pull")
@login_required
def sync_pull():
    """Changes in the caller's scope after `cursor`, oldest first (JSON changes, or the column
    encoding; a phone's pull in its phone scope)."""
    args = _load(PullArgs(), request.args.to_dict())
    columns = args["encoding"] == "columns"
    cap = current_app.config.get("SYNC_PULL_MAX_LIMIT_COLUMNS" if columns else "SYNC_PULL_MAX_LIMIT",
                                 5000 if columns else 500)
    page = pull_changes(current_user, args["cursor"], min(args["limit"], cap), encoding=args["encoding"],
                        phone=args["scope"] == "phone", horizon=args["horizon"])
    if columns:
        # Built for size and speed: no sorted keys, no indentation, text as UTF-8.
        body = json.dumps(page, separators=(",", ":"), ensure_ascii=False)
        return compressed(current_app.response_class(body, mimetype="application/json"))
    return compressed(jsonify(page))


@bp.get("/sync/records")
@login_required
def sync_record():
    """One record on demand (a phone's older record); missing and out of scope alike are a 404."""
    args = _load(RecordArgs(), request.args.to_dict())
    change = fetch_record(current_user, args["entity"], args["id"])
    if change is None:
        return api_error(404, "not_found", _("Not found, or not yours to see."))
    return jsonify(change=change)


@bp.get("/sync/older")
@login_required
def sync_older():
    """Older visits (and everything in them) on demand, newest first, a page at a time."""
    args = _load(OlderArgs(), request.args.to_dict())
    return compressed(jsonify(older_visits(current_user, **args)))


PUSH_ATTEMPTS = WRITE_ATTEMPTS


@bp.post("/sync/push")
@reads_first
@login_required
def sync_push():
    """Apply a device's mutations in order (see sync/engine.py: batched, savepoint fallback)."""
    received = datetime.now(UTC)
    args = _json_body(PushArgs())
    # The device clock (trusted time, docs/sync-protocol.md): the body's device_time, else the header.
    device_time = parse_device_time(args.get("device_time")) or parse_device_time(request.headers.get("X-Device-Time"))
    parsed = parse_mutations(args["mutations"])
    user = current_user._get_current_object()
    try:
        results = write_retrying(
            lambda: push_mutations(user, args["device_id"], args["mutations"], parsed=parsed,
                                   device_time=device_time, received=received), PUSH_ATTEMPTS)
    except DeviceTaken:
        return api_error(409, "device_taken", _("This device id is registered to another user. "
                                                "Sign out and in again on this device to get a new one."))
    return jsonify(results=results)


def _conflict_json(c) -> dict:
    return ConflictSchema().dump(c)


@bp.get("/conflicts")
@login_required
def conflicts_index():
    """Conflicts in the caller's scope (open ones by default), newest first."""
    args = _load(ConflictListArgs(), request.args.to_dict())
    rows = list_conflicts(current_user, **args)
    return jsonify(conflicts=[_conflict_json(c) for c in rows])


@bp.post("/conflicts/<int:conflict_id>/resolve")
@login_required
def conflicts_resolve(conflict_id: int):
    """Settle a conflict: keep the server's value, take the device's, or give a new value."""
    conflict = get_conflict(current_user, conflict_id) if conflict_id < 2**62 else None
    if conflict is None:
        return api_error(404, "not_found", _("Not found, or not yours to see."))
    args = _json_body(ResolveArgs())
    try:
        obj = resolve_conflict(current_user, conflict, args["choice"], args["value"])
    except NotAllowed:
        db.session.rollback()
        return api_error(403, "forbidden", _("Only management resolves conflicts."))
    except AlreadyResolved:
        db.session.rollback()
        return api_error(409, "resolved", _("This conflict has already been resolved."))
    except ResolutionError as e:
        db.session.rollback()
        return api_error(400, "invalid", _("Some fields are not valid."), e.errors)
    db.session.commit()
    record = get_record(conflict.entity, conflict.record_id)
    return jsonify(conflict=_conflict_json(conflict), record=wire_record(conflict.entity, record or obj))
