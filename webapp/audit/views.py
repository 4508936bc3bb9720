"""The audit page (审计日志), /admin/audit: who changed what and when, newest first; administrators
only (authz "admin.audit")."""

from datetime import date, datetime, time, timedelta

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import func, or_, select

from webapp.audit import labels
from webapp.audit.models import AuditEntry
from webapp.auth.models import User
from webapp.authz import require
from webapp.core.clock import company_zone
from webapp.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
PER_PAGE = 50


@bp.before_request
@login_required
def _administrators_only():
    require(current_user, "admin.audit")


class AuditListArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    kind = fields.String(load_default=None, validate=validate.OneOf(tuple(labels.KINDS)))
    actor = fields.String(load_default=None, validate=validate.Length(max=36))
    entity = fields.String(load_default=None, validate=validate.Length(max=40))
    entity_id = fields.String(load_default=None, validate=validate.Length(max=40))
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


def _args() -> dict:
    """The query string; a malformed filter is dropped (the page always opens), and said so."""
    raw = {k: v for k, v in request.args.items() if v != ""}
    errors = AuditListArgs().validate(raw)
    return AuditListArgs().load({k: v for k, v in raw.items() if k not in errors}), sorted(errors)


def _start_of(day: date) -> datetime:
    zone = company_zone()
    return datetime.combine(day, time.min, zone)


def _filtered(args):
    query = select(AuditEntry)
    if args["kind"]:
        _label, entities, prefixes = labels.KINDS[args["kind"]]
        clauses = []
        if entities:
            clauses.append(AuditEntry.entity.in_(entities))
        for prefix in prefixes or ():
            clauses.append(AuditEntry.action.startswith(prefix, autoescape=True))
        query = query.where(or_(*clauses))
        if args["kind"] == "user":  # sign-in events have their own kind
            query = query.where(~AuditEntry.action.startswith("token."))
    if args["actor"]:
        query = query.where(AuditEntry.user_id == args["actor"])
    if args["entity"]:
        query = query.where(AuditEntry.entity == args["entity"])
    if args["entity_id"]:
        query = query.where(AuditEntry.entity_id == args["entity_id"])
    if args["date_from"]:
        query = query.where(AuditEntry.at >= _start_of(args["date_from"]))
    if args["date_to"]:
        query = query.where(AuditEntry.at < _start_of(args["date_to"] + timedelta(days=1)))
    return query


@bp.get("/")
def index():
    args, ignored = _args()
    query = _filtered(args)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // PER_PAGE))
    page = min(args["page"], pages)
    entries = db.session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                                 .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    actor_ids = select(AuditEntry.user_id).where(AuditEntry.user_id.is_not(None)).distinct()
    actors = db.session.scalars(select(User).where(User.id.in_(actor_ids)).order_by(User.display_name)).all()
    who = {u.id: u.display_name for u in actors}
    names = labels.object_names(entries)
    rows = [{
        "at": e.at, "who": who.get(e.user_id), "what": labels.action_label(e.action),
        "kind": labels.entity_label(e.entity), "name": names.get((e.entity, e.entity_id)),
        "link": labels.object_link(e.entity, e.entity_id, names), "details": labels.details(e, names),
    } for e in entries]
    qs = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in args.items() if v and k != "page"}
    subject = names.get((args["entity"], args["entity_id"])) if args["entity"] and args["entity_id"] else None
    if subject is None and args["entity"] == "user" and args["entity_id"]:
        subject_user = db.session.get(User, args["entity_id"]) if len(args["entity_id"]) <= 36 else None
        subject = subject_user.display_name if subject_user else None
    return render_template("audit/index.html", rows=rows, args=args, ignored=ignored, total=total, page=page,
                           pages=pages, kinds=[(k, str(v[0])) for k, v in labels.KINDS.items()], actors=actors,
                           subject=subject, page_url=lambda n: url_for("audit.index", **qs, page=n))
