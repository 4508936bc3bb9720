"""Hand-over messages: one in-app notification per recipient, and an email through the outbox when
mail is configured (SMTP_HOST, or MAIL_CATCHER for a demo): written in the same transaction as the
change, delivered by a worker after the commit, retried until it arrives (docs/messages.md).

The in-app text is rendered when it is shown, in the reader's language: a notification stores its
`kind` and a subject (the report or finding title) in `message`. The email is rendered when it is
queued, in the recipient's language (users.locale, else the default).
"""

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from webapp.auth.models import User
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.notifications.models import Notification
from webapp.notifications.preferences import delay_seconds, preference_of, wants

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
    """One notification per distinct active user, and their email in the outbox (both flushed with
    the change: sent after the commit, never if it is rolled back)."""
    assert kind in KINDS, kind
    seen, made = set(), []
    mail = has_app_context() and bool(current_app.config.get("SMTP_HOST") or current_app.config.get("MAIL_CATCHER"))
    workapps = []
    if has_app_context():
        from webapp.outbox.workapps import configured_providers

        workapps = configured_providers(current_app.config)
    for user in users:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        n = Notification(user_id=user.id, kind=kind, message=subject[:1000], link=link)
        db.session.add(n)
        made.append(n)
        if not (mail and user.email) and not workapps:
            continue
        pref = preference_of(user.id)
        if mail and user.email and wants(pref, "email", kind):
            _enqueue_mail(user, kind, subject, link, pref)
        if workapps and wants(pref, "workapp", kind):
            _enqueue_workapp(user, kind, subject, link, workapps, delay_seconds(pref))
    return made


def _enqueue_workapp(user, kind: str, subject: str, link: str | None, providers: list[str],
                     delay: float = 0) -> None:
    """One card per configured work app to the user's account there (user_identities); a user with
    no account there gets a `skipped` row instead, visible on /admin/channels (docs/messages.md)."""
    import uuid

    from webapp.auth.models import UserIdentity
    from webapp.outbox.models import OutboxMessage
    from webapp.outbox.operations import enqueue_message
    from webapp.outbox.workapps import person_card

    cfg = current_app.config
    locale = user.locale if user.locale in cfg["LANGUAGES"] else cfg["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        text = str(KINDS[kind]) % {"subject": subject}
    with db.session.no_autoflush:
        linked = {i.provider: i.subject for i in db.session.scalars(select(UserIdentity).where(
            UserIdentity.user_id == user.id, UserIdentity.provider.in_(providers)))}
    for provider in providers:
        if provider not in linked:
            db.session.add(OutboxMessage(
                channel="workapp", event=f"notification.{kind}", recipient=user.id,
                payload={"provider": provider}, idempotency_key=f"notification.{kind}:{uuid.uuid4()}",
                status="skipped", attempts=0, next_attempt_at=utcnow(),
                last_error=f"no linked {provider} account"))
            continue
        enqueue_message("workapp", f"notification.{kind}", user.id,
                        {"provider": provider, "userid": linked[provider], "locale": locale,
                         "card": person_card(text, locale, link)}, delay_seconds=delay)


def _enqueue_mail(user, kind: str, subject: str, link: str | None, pref=None) -> None:
    """The email, due now or at the end of the person's quiet hours; or, for a person who chose the
    daily digest, a `digest` row that the daily task gathers into one email (preferences.py)."""
    import uuid

    from webapp.outbox.models import OutboxMessage
    from webapp.outbox.operations import enqueue_message

    cfg = current_app.config
    locale = user.locale if user.locale in cfg["LANGUAGES"] else cfg["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        text = str(KINDS[kind]) % {"subject": subject}
    body = text
    if link:
        body += "\n\n" + (cfg.get("PUBLIC_URL") or "").rstrip("/") + link
    payload = {"to": user.email, "subject": text[:300], "body": body, "locale": locale, "link": link}
    if pref is not None and pref.email_digest:
        db.session.add(OutboxMessage(channel="email", event=f"notification.{kind}", recipient=user.id,
                                     payload=payload, idempotency_key=f"notification.{kind}:{uuid.uuid4()}",
                                     status="digest", attempts=0, next_attempt_at=utcnow()))
        return
    enqueue_message("email", f"notification.{kind}", user.id, payload, delay_seconds=delay_seconds(pref))


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


def wait_for_mail(app, timeout: float = 30) -> None:
    """Deliver every due outbox message now, in a context of its own: for scripts and tests (a
    worker does this in production)."""
    from webapp.outbox.operations import deliver_due

    with app.app_context():
        deliver_due()
        db.session.remove()
