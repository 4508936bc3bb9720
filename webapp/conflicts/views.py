"""The managers' desk for sync conflicts: open conflicts with base / server / device values side
by side, who and when, resolve with one of them or an edited value, and the record's history."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from marshmallow import ValidationError
from sqlalchemy import select

from webapp.auth.models import User
from webapp.authz import EVERYTHING
from webapp.conflicts.labels import choices, display, input_kind
from webapp.extensions import db
from webapp.sync_store.entities import ENTITIES
from webapp.sync_store.operations import (
    AlreadyResolved,
    get_conflict,
    get_record,
    list_conflicts,
    record_history,
    resolve_conflict,
)
from webapp.sync_store.policy import ResolutionError
from webapp.sync_store.schemas import ResolveArgs

bp = Blueprint("conflicts", __name__, url_prefix="/conflicts")


@bp.before_request
@login_required
def _managers_only():
    if current_user.role not in EVERYTHING:
        abort(404)


@bp.context_processor
def _labels():
    return dict(show_value=display, value_choices=choices, input_kind=input_kind, device_label=_device_label)


def _device_label(conflict) -> str:
    """A device as a person knows it: whose phone, since when — not its id."""
    from flask_babel import format_date

    from webapp.sync_store.models import Device

    device = db.session.get(Device, conflict.device_id) if conflict.device_id else None
    if device is None:
        return "—"
    owner = db.session.get(User, device.user_id)
    return _("Phone of %(name)s, first synced %(date)s", name=owner.display_name if owner else "—",
             date=format_date(device.first_seen_at, "medium"))


def _people(conflicts) -> dict:
    ids = {c.user_id for c in conflicts} | {c.resolved_by for c in conflicts}
    ids.discard(None)
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(sorted(ids))))}


@bp.get("/")
def index():
    conflicts = list_conflicts(current_user, status="open", limit=200)
    return render_template("conflicts/index.html", conflicts=conflicts, people=_people(conflicts), errors={})


def _parse_value(field: str, raw: str | None):
    """The form's edited value in the field's wire type (text, a yes/no for a deletion, a whole number
    for progress); numbers in text are accepted by the field's schema as they are."""
    if raw is None:
        return None
    if field == "deleted":
        return raw.strip().lower() in ("true", "1", "yes")
    if field == "progress" and raw.strip().isdigit():
        return int(raw.strip())
    return raw


@bp.post("/<int:conflict_id>/resolve")
def resolve(conflict_id: int):
    conflict = get_conflict(current_user, conflict_id)
    if conflict is None:
        abort(404)
    errors = {}
    try:
        choice = request.form.get("choice", "")
        value = request.form.get("value") if choice == "value" else None
        args = ResolveArgs().load({"choice": choice, "value": _parse_value(conflict.field, value)})
        resolve_conflict(current_user, conflict, args["choice"], args["value"])
        db.session.commit()
        message = _("Conflict resolved: a new version goes to every device.")
    except ValidationError as e:
        db.session.rollback()
        errors = {k: [str(m) for m in v] for k, v in e.messages.items()}
        message = None
    except ResolutionError as e:
        db.session.rollback()
        errors = e.errors
        message = None
    except AlreadyResolved:
        db.session.rollback()
        message = _("This conflict has already been resolved.")
    conflict = get_conflict(current_user, conflict_id)
    if request.headers.get("HX-Request"):
        return render_block("conflicts/index.html", "conflict_card", c=conflict, people=_people([conflict]),
                            errors=errors, message=message)
    if message:
        flash(message, "success")
    elif errors:
        flash(_("Some fields are not valid."), "error")
    return redirect(url_for("conflicts.index"))


@bp.get("/history/<entity>/<record_id>")
def history(entity: str, record_id: str):
    if entity not in ENTITIES:
        abort(404)
    record = get_record(entity, record_id)
    if record is None:
        abort(404)
    revisions = record_history(entity, record_id)
    conflicts = list_conflicts(current_user, status="all", entity=entity, record_id=record_id, limit=500)
    people = _people(conflicts)
    ids = {r.user_id for r in revisions if r.user_id} - set(people)
    if ids:
        people.update({u.id: u for u in db.session.scalars(select(User).where(User.id.in_(sorted(ids))))})
    return render_template("conflicts/history.html", entity=entity, record=record, revisions=revisions,
                           conflicts=conflicts, people=people)
