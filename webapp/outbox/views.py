"""/admin/channels: the outbox (counts, messages and their attempts, send again) and the webhook
endpoints (register, edit, rotate the secret, delivery log). Administrators only (admin.settings)."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import func, select

from webapp.authz import require
from webapp.core.formdata import form_to_dict, translate_errors
from webapp.extensions import db
from webapp.outbox import operations as ops
from webapp.outbox.models import STATUSES, DeliveryAttempt, OutboxMessage, WebhookEndpoint, WorkAppRobot
from webapp.outbox.schemas import EndpointArgs, MessageFilterArgs, RobotArgs
from webapp.outbox.webhooks import EVENTS

bp = Blueprint("channels", __name__, url_prefix="/admin/channels")

PER_PAGE = 50
STATUS_LABELS = {"pending": _l("Waiting"), "sending": _l("Sending"), "sent": _l("Sent"), "failed": _l("Delivery failed"),
                 "skipped": _l("Skipped"), "digest": _l("Held for the digest"), "digested": _l("Sent in a digest")}
ROBOT_KINDS = {"wecom": _l("WeCom group robot"), "dingtalk": _l("DingTalk custom robot"),
               "feishu": _l("Feishu custom bot")}
PROVIDER_LABELS = {"wecom": _l("WeCom"), "dingtalk": _l("DingTalk"), "feishu": _l("Feishu")}
EVENT_LABELS = {
    "finding.recorded": _l("A finding is recorded"),
    "report.approved": _l("A report is approved"),
    "rectification.submitted": _l("A rectification is submitted for acceptance"),
    "acceptance.passed": _l("Acceptance passed"),
    "acceptance.failed": _l("Acceptance failed"),
    "warning.raised": _l("An early warning is raised"),
}
CHANNEL_LABELS = {"email": _l("Email"), "webhook": _l("Webhook"), "robot": _l("Work-app group robot"),
                  "workapp": _l("Work app")}


def _notification_label(kind: str) -> str:
    """A notification's kind as the preferences page words it (its subject left out)."""
    from webapp.notifications.operations import KINDS

    return _("Notification: %(kind)s", kind=str(KINDS[kind]).replace("%(subject)s", "").strip().rstrip(":：").strip())


def _event_labels() -> dict:
    """Every event a message can carry → its label in the reader's language: the webhook events,
    each notification kind (emails and work-app messages) and the daily digest. No raw codes."""
    from webapp.notifications.operations import KINDS

    labels = {e: str(label) for e, label in EVENT_LABELS.items()}
    labels.update({f"notification.{k}": _notification_label(k) for k in KINDS})
    labels["notification.digest"] = _("Daily digest")
    return labels


class _Labels(dict):
    """`get(code, code)` in the templates: an unknown code still shows a word, never the code."""

    def get(self, key, default=None):
        return super().get(key) or _("Other message")


@bp.context_processor
def _channel_labels():
    return {"channel_labels": {k: str(v) for k, v in CHANNEL_LABELS.items()}}


@bp.before_request
@login_required
def _administrators_only():
    require(current_user, "admin.settings")


def _filters():
    try:
        return MessageFilterArgs().load(form_to_dict(request.args))
    except ValidationError as e:
        abort(400, description=str(translate_errors(e.messages)))


def _messages(args):
    q = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    for name in ("status", "channel", "event"):
        if args.get(name):
            q = q.where(getattr(OutboxMessage, name) == args[name])
    if args.get("endpoint"):
        q = q.where(OutboxMessage.channel == "webhook", OutboxMessage.recipient == args["endpoint"])
    total = db.session.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0
    rows = db.session.scalars(q.offset((args["page"] - 1) * PER_PAGE).limit(PER_PAGE)).all()
    attempts: dict[int, list] = {}
    if rows:
        for a in db.session.scalars(select(DeliveryAttempt).where(
                DeliveryAttempt.message_id.in_([m.id for m in rows])).order_by(DeliveryAttempt.id)):
            attempts.setdefault(a.message_id, []).append(a)
    return rows, attempts, total


def _index(status=200, form_errors=None, form_values=None, new_secret=None, new_endpoint=None,
           robot_errors=None, robot_values=None):
    from webapp.outbox.workapps import configured_providers

    args = _filters()
    rows, attempts, total = _messages(args)
    endpoints = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at)).all()
    events = sorted({e for (e,) in db.session.execute(select(OutboxMessage.event).distinct())})
    return render_template(
        "channels/index.html", counts=ops.counts_by_status(), messages=rows, attempts=attempts, total=total,
        args=args, pages=max(1, -(-total // PER_PAGE)), endpoints=endpoints, events=events,
        all_events=EVENTS, event_labels=_Labels(_event_labels()), status_labels=STATUS_LABELS, statuses=STATUSES,
        errors=form_errors or {}, values=form_values or {}, new_secret=new_secret,
        new_endpoint=new_endpoint, robots=db.session.scalars(select(WorkAppRobot).order_by(WorkAppRobot.created_at)).all(),
        robot_kinds=ROBOT_KINDS, robot_errors=robot_errors or {}, robot_values=robot_values or {},
        providers=[(p, PROVIDER_LABELS[p], p in configured_providers(current_app.config))
                   for p in PROVIDER_LABELS], mail=_mail_settings()), status


def _mail_settings() -> dict:
    """The email settings, read-only: they live in the environment (docs/messages.md), never a password."""
    from webapp.outbox.channels import catcher_folder

    cfg = current_app.config
    return {"host": cfg.get("SMTP_HOST"), "port": cfg.get("SMTP_PORT") or 25, "starttls": bool(cfg.get("SMTP_STARTTLS")),
            "login": bool(cfg.get("SMTP_USER")), "sender": cfg.get("MAIL_FROM"),
            "catcher": catcher_folder(current_app._get_current_object()) is not None}


@bp.get("/")
def index():
    return _index()


@bp.get("/mail")
def caught_mail():
    """The demo's mail catcher (MAIL_CATCHER=1, no SMTP_HOST): the emails it wrote, newest first,
    read-only. 404 when the catcher is not the mail transport."""
    from webapp.outbox.channels import catcher_folder, caught_emails

    folder = catcher_folder(current_app._get_current_object())
    if folder is None:
        abort(404)
    emails, total = caught_emails(folder)
    return render_template("channels/mail.html", emails=emails, total=total, event_labels=_Labels(_event_labels()))


@bp.post("/messages/<int:message_id>/retry")
def retry(message_id):
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    try:
        ops.retry_message(message, current_user)
    except ops.NotRetryable:
        db.session.rollback()
        abort(409)
    db.session.commit()
    flash(_("The message will be sent again."), "info")
    back = request.form.get("back_to_endpoint") and message.channel == "webhook"  # the endpoint's own log
    return redirect(back and url_for(".endpoint", endpoint_id=message.recipient)
                    or url_for(".index", status="failed"), 303)


def _endpoint_form():
    raw = form_to_dict(request.form, lists=("events",))
    try:
        return EndpointArgs().load(raw), raw, {}
    except ValidationError as e:
        return None, raw, translate_errors(e.messages)


@bp.post("/endpoints")
def create_endpoint():
    data, raw, errors = _endpoint_form()
    if errors:
        return _index(400, errors, raw)
    endpoint, secret = ops.create_endpoint(current_user, data["name"], data["url"], data["events"], data["active"])
    db.session.commit()
    return _index(201, new_secret=secret, new_endpoint=endpoint)  # shown once: never in a redirect or a flash


def _endpoint_page(endpoint, status=200, errors=None, values=None, new_secret=None):
    args = _filters()
    args["endpoint"] = endpoint.id
    rows, attempts, total = _messages(args)
    return render_template(
        "channels/endpoint.html", endpoint=endpoint, messages=rows, attempts=attempts, total=total, args=args,
        pages=max(1, -(-total // PER_PAGE)), all_events=EVENTS, event_labels=_Labels(_event_labels()),
        status_labels=STATUS_LABELS, statuses=STATUSES, errors=errors or {}, values=values or {},
        new_secret=new_secret), status


@bp.get("/endpoints/<endpoint_id>")
def endpoint(endpoint_id):
    return _endpoint_page(db.session.get(WebhookEndpoint, endpoint_id) or abort(404))


@bp.post("/endpoints/<endpoint_id>")
def update_endpoint(endpoint_id):
    endpoint = db.session.get(WebhookEndpoint, endpoint_id) or abort(404)
    data, raw, errors = _endpoint_form()
    if errors:
        return _endpoint_page(endpoint, 400, errors, raw)
    ops.update_endpoint(endpoint, current_user, data["name"], data["url"], data["events"], data["active"])
    db.session.commit()
    flash(_("The endpoint was saved."), "info")
    return redirect(url_for(".endpoint", endpoint_id=endpoint.id), 303)


@bp.post("/endpoints/<endpoint_id>/rotate")
def rotate(endpoint_id):
    endpoint = db.session.get(WebhookEndpoint, endpoint_id) or abort(404)
    secret = ops.rotate_endpoint_secret(endpoint, current_user)
    db.session.commit()
    return _endpoint_page(endpoint, new_secret=secret)


@bp.post("/robots")
def create_robot():
    raw = form_to_dict(request.form, lists=("events",))
    try:
        data = RobotArgs().load(raw)
    except ValidationError as e:
        raw.pop("secret", None)  # never echoed back
        return _index(400, robot_errors=translate_errors(e.messages), robot_values=raw)
    ops.create_robot(current_user, data["kind"], data["name"], data["url"], data["secret"], data["events"])
    db.session.commit()
    flash(_("The robot was registered."), "info")
    return redirect(url_for(".index"), 303)


@bp.post("/robots/<robot_id>/active")
def robot_active(robot_id):
    robot = db.session.get(WorkAppRobot, robot_id) or abort(404)
    ops.set_robot_active(robot, current_user, request.form.get("active") == "1")
    db.session.commit()
    flash(_("The robot was saved."), "info")
    return redirect(url_for(".index"), 303)
