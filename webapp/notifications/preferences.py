"""Each person's notification preferences (docs/messages.md): channel per kind, quiet hours, daily
email digest. notify() asks `plan_delivery`; the daily digest task runs `send_digests`."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.core.clock import company_zone
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.notifications.models import UserNotificationPreference

CHANNELS = ("email", "workapp")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def preference_of(user_id) -> UserNotificationPreference | None:
    with db.session.no_autoflush:
        return db.session.get(UserNotificationPreference, user_id)


def wants(pref, channel: str, kind: str) -> bool:
    return pref is None or kind not in ((pref.off or {}).get(channel) or [])


def _hm(value: str) -> time:
    h, m = value.split(":")
    return time(int(h), int(m))


def quiet_until(pref, now: datetime | None = None) -> datetime | None:
    """The end of the quiet hours (UTC) if `now` falls inside them, else None. A window may cross
    midnight (22:00–07:30)."""
    if pref is None or not pref.quiet_start or not pref.quiet_end or pref.quiet_start == pref.quiet_end:
        return None
    zone = company_zone()
    local = (now or utcnow()).astimezone(zone)
    start, end = _hm(pref.quiet_start), _hm(pref.quiet_end)
    t = local.time().replace(second=0, microsecond=0)
    if start < end:
        inside, end_day = start <= t < end, local.date()
    else:
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def delay_seconds(pref, now: datetime | None = None) -> float:
    now = now or utcnow()
    until = quiet_until(pref, now)
    return max(0.0, (until - now).total_seconds()) if until else 0.0


def set_preferences(user, off: dict, quiet_start: str | None, quiet_end: str | None, email_digest: bool):
    """Save a person's own preferences (flush only; audited)."""
    from webapp.audit.operations import record_audit

    pref = db.session.get(UserNotificationPreference, user.id)
    if pref is None:
        pref = UserNotificationPreference(user_id=user.id)
        db.session.add(pref)
    pref.off = {c: sorted(set(off.get(c) or [])) for c in CHANNELS}
    pref.quiet_start, pref.quiet_end = (quiet_start, quiet_end) if quiet_start and quiet_end else (None, None)
    pref.email_digest = bool(email_digest)
    pref.updated_at = utcnow()
    record_audit(user, "notifications.preferences", "user", user.id,
                 {"off": pref.off, "quiet": [pref.quiet_start, pref.quiet_end], "digest": pref.email_digest})
    db.session.flush()
    return pref


# ---- the daily digest ---------------------------------------------------------------------------------

DIGEST_SUBJECT = _l("Daily digest: %(count)s messages")


def send_digests(today: date | None = None) -> int:
    """One email per person for the digest items written before `today` (site time zone), with the
    idempotency key digest:<user>:<today>: running twice the same day sends nothing more; items of
    today wait for tomorrow's digest. Flushes; the caller commits. Returns the emails enqueued."""
    from webapp.auth.models import User
    from webapp.outbox.models import OutboxMessage
    from webapp.outbox.operations import enqueue_message

    zone = company_zone()
    today = today or utcnow().astimezone(zone).date()
    cutoff = datetime.combine(today, time(0), tzinfo=zone)
    items = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.status == "digest", OutboxMessage.created_at < cutoff).order_by(OutboxMessage.id)).all()
    by_user: dict[str, list] = {}
    for item in items:
        by_user.setdefault(item.recipient, []).append(item)
    cfg, made = current_app.config, 0
    base = (cfg.get("PUBLIC_URL") or "").rstrip("/")
    for user_id, rows in by_user.items():
        user = db.session.get(User, user_id)
        if user is None or not user.email or not user.active:
            for row in rows:
                row.status, row.last_error = "skipped", "no email address"
            continue
        locale = user.locale if user.locale in cfg["LANGUAGES"] else cfg["BABEL_DEFAULT_LOCALE"]
        with force_locale(locale):
            subject = str(DIGEST_SUBJECT) % {"count": len(rows)}
        lines = [f"- {r.payload.get('subject', '')}" + (f"\n  {base}{r.payload['link']}" if r.payload.get("link") else "")
                 for r in rows]
        enqueue_message("email", "notification.digest", user.id,
                        {"to": user.email, "subject": subject[:300], "body": "\n".join(lines), "locale": locale},
                        idempotency_key=f"digest:{user.id}:{today.isoformat()}")
        for row in rows:
            row.status, row.sent_at = "digested", utcnow()
        made += 1
    db.session.flush()
    return made
