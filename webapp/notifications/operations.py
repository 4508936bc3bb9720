"""Hand-over messages: one in-app notification per recipient, and an email when SMTP is configured
(sent in the background after the change commits).

The text is rendered when it is shown, in the reader's language: a notification stores its `kind`
and a subject (the report or finding title) in `message`.
"""

import smtplib
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from webapp.auth.models import User
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.notifications.models import Notification

KINDS = {
    "report_to_approve": _l("Report to approve: %(subject)s"),
    "report_returned": _l("Report returned for changes: %(subject)s"),
    "report_approved": _l("Report approved: %(subject)s"),
    "report_to_acknowledge": _l("Report to acknowledge: %(subject)s"),
    "plan_to_submit": _l("Rectification plan to submit: %(subject)s"),
    "acceptance_to_do": _l("Rectification awaiting your acceptance: %(subject)s"),
    "acceptance_failed": _l("Acceptance failed, rectify again: %(subject)s"),
    "acceptance_passed": _l("Rectification accepted: %(subject)s"),
    "overdue": _l("Rectification overdue: %(subject)s"),
    "coordination": _l("Your department is asked to help: %(subject)s"),
    "warning_high_severity_open": _l("Early warning: high-severity finding open too long: %(subject)s"),
    "warning_score_drop": _l("Early warning: checklist score fell at %(subject)s"),
    "warning_repeat_problem": _l("Early warning: repeat problems at %(subject)s"),
    "warning_overdue_rectifications": _l("Early warning: overdue rectifications in %(subject)s"),
    "points_appeal": _l("Points appeal to decide: %(subject)s"),
    "points_appeal_upheld": _l("Your points appeal was upheld: %(subject)s"),
    "points_appeal_rejected": _l("Your points appeal was rejected: %(subject)s"),
}


def render_notification(n: Notification) -> str:
    template = KINDS.get(n.kind)
    return str(template) % {"subject": n.message} if template is not None else n.message


def notify(users, kind: str, subject: str, link: str | None = None) -> list[Notification]:
    """Queue one notification per distinct active user (flushed with the change; email after the
    outermost commit, unless the change is rolled back)."""
    assert kind in KINDS, kind
    seen, made = set(), []
    for user in users:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        n = Notification(user_id=user.id, kind=kind, message=subject[:1000], link=link)
        db.session.add(n)
        made.append(n)
        if user.email and has_app_context() and current_app.config.get("SMTP_HOST"):
            # Plain values: after commit the ORM objects are expired and must not be reloaded.
            _queue_mail((user.email, user.locale, kind, subject, link))
    return made


def department_heads(department_id) -> list[User]:
    if department_id is None:
        return []
    return list(db.session.scalars(select(User).where(
        User.department_id == department_id, User.role == "dept_head", User.active.is_(True))))


def managers() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == "manager", User.active.is_(True))))


def unread_count(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def mark_read(user, notification_id=None) -> None:
    q = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        q = q.where(Notification.id == notification_id)
    db.session.execute(q.values(read_at=utcnow()))


def _send_mail(app, outbox) -> None:
    cfg = app.config
    with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg.get("SMTP_PORT") or 25), timeout=10) as smtp:
        if cfg.get("SMTP_STARTTLS"):
            smtp.starttls()
        if cfg.get("SMTP_USER"):
            smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD") or "")
        for email, locale, kind, subject, link in outbox:
            with force_locale(locale or cfg["BABEL_DEFAULT_LOCALE"]):
                text = str(KINDS[kind]) % {"subject": subject}
            msg = EmailMessage()
            msg["Subject"] = text
            msg["From"] = cfg.get("MAIL_FROM") or f"supervision@{cfg['SMTP_HOST']}"
            msg["To"] = email
            body = text
            if link:
                body += "\n\n" + (cfg.get("PUBLIC_URL") or "").rstrip("/") + link
            msg.set_content(body)
            smtp.send_message(msg)


# Mail is collected per transaction: a mail belongs to the innermost transaction (savepoint) open
# when it was queued. A rolled-back savepoint or transaction drops its mails; a released savepoint
# hands them to its parent; the outermost commit hands them to a background thread, so a request
# never waits for the mail server. (Durable delivery, an outbox table and a job queue, is later work.)

def _queue_mail(mail: tuple) -> None:
    session = db.session()  # the Session itself: the scoped proxy lacks the transaction accessors
    tx = session.get_nested_transaction() or session.get_transaction() or session.begin()
    session.info.setdefault("mail_pending", {}).setdefault(tx, []).append(mail)


def _mark_committed(session):
    # Fires for the outermost commit and for each released savepoint, while it is still the innermost.
    if session.info.get("mail_pending"):
        tx = session.get_nested_transaction() or session.get_transaction()
        session.info.setdefault("mail_committed", set()).add(tx)


def _settle(session, tx):
    committed = session.info.get("mail_committed", set())
    was_committed = tx in committed
    committed.discard(tx)
    mails = session.info.get("mail_pending", {}).pop(tx, None)
    if not mails or not was_committed:
        return  # nothing queued, or rolled back: its mails go with it
    if tx.parent is not None:
        session.info["mail_pending"].setdefault(tx.parent, []).extend(mails)
    elif has_app_context():
        app = current_app._get_current_object()
        app.extensions["mail_sender"].submit(_deliver, app, mails)


def _deliver(app, outbox) -> None:
    with app.app_context():
        try:
            _send_mail(app, outbox)
        except (OSError, smtplib.SMTPException):
            # XXX: mail is best effort; the in-app notification is already committed.
            app.logger.warning("could not send notification email", exc_info=True)


def wait_for_mail(app, timeout: float = 30) -> None:
    """Block until every mail handed over so far was sent (or failed): for scripts and tests."""
    app.extensions["mail_sender"].submit(lambda: None).result(timeout)


def install_mail_outbox(app) -> None:
    # One worker: mails leave in commit order, and a slow server holds up only the mail.
    app.extensions.setdefault("mail_sender", ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail"))
    if not event.contains(Session, "after_transaction_end", _settle):
        event.listen(Session, "after_commit", _mark_committed)
        event.listen(Session, "after_transaction_end", _settle)
