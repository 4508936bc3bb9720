import click
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from marshmallow import ValidationError
from sqlalchemy import select

from webapp.auth.models import User
from webapp.authz import get_scoped_or_404
from webapp.core.clock import company_today
from webapp.core.views import is_htmx
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.findings.operations import NotAllowed, WorkflowError
from webapp.org.models import Department
from webapp.photos.ingest import PhotoRejected
from webapp.photos.operations import record_upload, rejection_message, storage_failure, store_upload
from webapp.photos.storage import StorageError
from webapp.rectification import operations as ops
from webapp.rectification.models import AcceptanceRound, CoordinationNote, RectificationUpdate
from webapp.rectification.schemas import (
    CoordinationArgs,
    DecisionArgs,
    PlanArgs,
    ProgressArgs,
    form_data,
    index_args,
)

bp = Blueprint("rectification", __name__, url_prefix="/rectification")


@bp.cli.command("notify-overdue")
def notify_overdue_command():
    """Notify department heads and supervisors of overdue rectifications (run daily)."""
    sent = ops.notify_overdue()
    db.session.commit()
    click.echo(f"{sent} notifications")


@bp.get("/")
@login_required
def index():
    args = index_args(request.args)
    today = company_today()
    rows, next_cursor = ops.open_work(current_user, args, today)
    ctx = dict(rows=rows, args=args, next_cursor=next_cursor, today=today,
               keep={k: v for k, v in (("status", args["status"]), ("overdue", 1 if args["overdue"] else None)) if v})
    if is_htmx() and args.get("cursor"):  # "Load more": the next rows only
        return render_block("rectification/index.html", "rows", **ctx)
    return render_template("rectification/index.html", **ctx)


def _render(finding, errors=None, form=None, status=200):
    rect = ops.rectification_for(finding)
    updates = db.session.scalars(select(RectificationUpdate).where(
        RectificationUpdate.finding_id == finding.id, RectificationUpdate.deleted_at.is_(None))
        .order_by(RectificationUpdate.created_at)).all()
    rounds = db.session.scalars(select(AcceptanceRound).where(
        AcceptanceRound.rectification_id == rect.id).order_by(AcceptanceRound.id)).all() if rect else []
    notes = db.session.scalars(select(CoordinationNote).where(CoordinationNote.finding_id == finding.id)
                               .order_by(CoordinationNote.created_at)).all()
    people = {u.id: u.display_name for u in db.session.scalars(select(User).where(
        User.id.in_({r.decided_by for r in rounds} | {n.author_id for n in notes}
                    | {u.author_id for u in updates if u.author_id})))}
    departments = db.session.scalars(select(Department).where(Department.deleted_at.is_(None))
                                     .order_by(Department.code)).all()
    ctx = dict(finding=finding, rect=rect, updates=updates, rounds=rounds, notes=notes, people=people,
               departments=departments, errors=errors or {}, form=form or {}, today=company_today(),
               is_head=ops.is_responsible_head(current_user, finding),
               can_decide=ops.can_decide_acceptance(current_user, finding))
    return render_template("rectification/detail.html", **ctx), status


@bp.get("/<finding_id>")
@login_required
def detail(finding_id):
    return _render(get_scoped_or_404(Finding, finding_id, current_user))


def _act(finding_id, schema, action, done_message):
    """Parse → one operation → commit → back to the page; errors re-render the form with the input kept."""
    finding = get_scoped_or_404(Finding, finding_id, current_user)
    try:
        args = schema.load(form_data(request.form)) if schema is not None else {}
        action(finding, args)
    except ValidationError as e:
        db.session.rollback()
        return _render(finding, {k: "; ".join(v) if isinstance(v, list) else str(v)
                                 for k, v in e.messages.items()}, request.form, 400)
    except WorkflowError as e:
        db.session.rollback()
        return _render(finding, {"_": str(e)}, request.form, 409)
    except PhotoRejected as e:
        db.session.rollback()
        return _render(finding, {"photos": rejection_message(e.code)}, request.form, 400)
    except StorageError as e:
        db.session.rollback()
        status, code = storage_failure(e)
        return _render(finding, {"photos": rejection_message(code)}, request.form, status)
    except NotAllowed as e:
        db.session.rollback()
        return _render(finding, {"_": str(e)}, request.form, 403)
    db.session.commit()
    flash(done_message, "info")
    return redirect(url_for(".detail", finding_id=finding_id), 303)


@bp.post("/<finding_id>/plan")
@login_required
def plan(finding_id):
    return _act(finding_id, PlanArgs(), lambda f, a: ops.submit_plan(f, current_user, **a),
                _("The rectification plan was saved."))


@bp.post("/<finding_id>/progress")
@login_required
def progress(finding_id):
    # The one ingest path, before the write transaction (SQLite: its one write lock): validate,
    # decode once, make the renditions, store the bytes. A refusal is shown on the form.
    db.session.rollback()
    try:
        uploads = [store_upload(fs.read()) for fs in request.files.getlist("photos") if fs and fs.filename]
        refused = None
    except (PhotoRejected, StorageError) as e:
        uploads, refused = [], e

    def action(f, a):
        if refused is not None:
            raise refused
        shas = [record_upload(u, current_user)[0].sha256 for u in uploads]
        ops.add_progress(f, current_user, a.get("note"), a["progress"], shas)

    return _act(finding_id, ProgressArgs(), action, _("Progress was recorded."))


@bp.post("/<finding_id>/submit")
@login_required
def submit(finding_id):
    return _act(finding_id, None, lambda f, a: ops.submit_for_acceptance(f, current_user),
                _("Submitted for acceptance."))


@bp.post("/<finding_id>/decide")
@login_required
def decide(finding_id):
    return _act(finding_id, DecisionArgs(), lambda f, a: ops.decide_acceptance(f, current_user, **a),
                _("The acceptance decision was recorded."))


@bp.post("/<finding_id>/coordinate")
@login_required
def coordinate(finding_id):
    return _act(finding_id, CoordinationArgs(), lambda f, a: ops.add_coordination(f, current_user, **a),
                _("The coordination note was saved."))
