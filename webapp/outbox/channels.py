"""Channels: a registry of senders, channel name → function(message, app) → Receipt.

A sender raises `DeliveryError` when the receiver refused or could not be reached (the message is
tried again later), `PermanentError` when trying again cannot help (the message fails at once).
Here: `email` and `webhook`; webapp/outbox/workapps.py registers `robot` and `workapp` the same way.
"""

import hashlib
import json
import logging
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

log = logging.getLogger("webapp.outbox")


@dataclass(frozen=True)
class Message:
    """What a sender gets: plain values, no ORM object (it runs outside any transaction)."""

    id: int
    channel: str
    event: str
    recipient: str
    payload: dict
    idempotency_key: str
    attempts: int


@dataclass
class Receipt:
    status_code: int | None = None
    response: str = ""


class DeliveryError(Exception):
    def __init__(self, reason: str, status_code: int | None = None, response: str = ""):
        super().__init__(reason)
        self.status_code, self.response = status_code, response


class PermanentError(DeliveryError):
    """Retrying cannot help (an endpoint removed, no mail transport): the message fails now."""


Sender = Callable[[Message, object], Receipt]
CHANNELS: dict[str, Sender] = {}


def register_channel(name: str, sender: Sender) -> None:
    CHANNELS[name] = sender


# ---- email -----------------------------------------------------------------------------------------

def _domain(cfg) -> str:
    sender = cfg.get("MAIL_FROM") or ""
    return sender.rsplit("@", 1)[-1].strip("> ") if "@" in sender else (cfg.get("SMTP_HOST") or "supervision.local")


def build_email(message: Message, cfg) -> EmailMessage:
    p = message.payload
    msg = EmailMessage()
    msg["Subject"] = p["subject"]
    msg["From"] = cfg.get("MAIL_FROM") or f"supervision@{_domain(cfg)}"
    msg["To"] = p["to"]
    msg["Date"] = formatdate(localtime=False)
    # The same key on every delivery of this message: a receiver (or a mail filter) drops repeats.
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
    msg["Message-ID"] = f"<{digest}@{_domain(cfg)}>"
    msg["X-Supervision-Delivery"] = message.idempotency_key
    msg["X-Supervision-Event"] = message.event
    msg.set_content(p.get("body") or p["subject"])
    return msg


def send_email(message: Message, app) -> Receipt:
    cfg = app.config
    msg = build_email(message, cfg)
    if not cfg.get("SMTP_HOST"):
        if not cfg.get("MAIL_CATCHER"):
            raise PermanentError("no mail transport: set SMTP_HOST (or MAIL_CATCHER=1 for a demo)")
        return _catch(msg, message, app)
    try:
        with smtplib.SMTP(cfg["SMTP_HOST"], int(cfg.get("SMTP_PORT") or 25),
                          timeout=float(cfg.get("SMTP_TIMEOUT") or 10)) as smtp:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls()
            if cfg.get("SMTP_USER"):
                smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD") or "")
            refused = smtp.send_message(msg)
            code, reply = smtp.noop()
    except smtplib.SMTPResponseException as e:
        reply = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
        if 500 <= e.smtp_code < 600 and e.smtp_code not in (521, 554):
            raise PermanentError(f"SMTP {e.smtp_code}", e.smtp_code, reply) from e
        raise DeliveryError(f"SMTP {e.smtp_code}", e.smtp_code, reply) from e
    except (OSError, smtplib.SMTPException) as e:
        raise DeliveryError(f"{type(e).__name__}: {e}") from e
    if refused:
        raise PermanentError("recipient refused", None, str(refused))
    return Receipt(250, "accepted")


def _catch(msg: EmailMessage, message: Message, app) -> Receipt:
    """The demo's mail catcher: each email a file instance/mail/<time>-<message id>.eml, and a log line."""
    folder = Path(app.config.get("MAIL_CATCHER_DIR") or Path(app.instance_path) / "mail")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{message.id}.eml"
    path.write_bytes(bytes(msg))
    log.info("mail catcher: email to %s (%s) written to %s", msg["To"], message.event, path)
    return Receipt(250, f"written to {path.name}")


def catcher_folder(app) -> Path | None:
    """Where the mail catcher writes, when it is the mail transport (MAIL_CATCHER=1 and no SMTP_HOST)."""
    cfg = app.config
    if not cfg.get("MAIL_CATCHER") or cfg.get("SMTP_HOST"):
        return None
    return Path(cfg.get("MAIL_CATCHER_DIR") or Path(app.instance_path) / "mail")


@dataclass
class CaughtEmail:
    name: str
    to: str
    subject: str
    at: object  # datetime (aware) or None
    event: str
    key: str
    body: str


def caught_emails(folder: Path, limit: int = 100) -> tuple[list[CaughtEmail], int]:
    """The newest `limit` emails the catcher wrote (read-only), and how many there are. A file that is
    not a readable email is left out, never an error."""
    from email import policy
    from email.parser import BytesParser
    from email.utils import parsedate_to_datetime

    def modified(f: Path) -> float:
        try:
            return f.stat().st_mtime
        except OSError:  # removed meanwhile: read below as unreadable, left out
            return 0.0

    try:
        files = [f for f in folder.glob("*.eml") if f.is_file()]
    except OSError:
        return [], 0
    files.sort(key=lambda f: (modified(f), f.name), reverse=True)
    out = []
    for f in files[:limit]:
        try:
            with f.open("rb") as fh:
                msg = BytesParser(policy=policy.default).parse(fh)
            try:
                at = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
            except (TypeError, ValueError):
                at = None
            part = msg.get_body(("plain",))
            body = part.get_content() if part is not None else ""
            out.append(CaughtEmail(f.name, str(msg["To"] or ""), str(msg["Subject"] or ""), at,
                                   str(msg["X-Supervision-Event"] or ""), str(msg["X-Supervision-Delivery"] or ""),
                                   str(body)[:5000]))
        except (OSError, ValueError, LookupError, AttributeError):
            continue
    return out, len(files)


# ---- webhook ---------------------------------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer, never followed (it could point anywhere)


_opener = urllib.request.build_opener(_NoRedirect)


def webhook_body(message: Message) -> bytes:
    return json.dumps(message.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def send_webhook(message: Message, app) -> Receipt:
    from webapp.extensions import db
    from webapp.outbox.models import WebhookEndpoint
    from webapp.outbox.webhooks import UnsafeTarget, check_target, endpoint_secret, pinned_opener, sign

    endpoint = db.session.get(WebhookEndpoint, message.recipient)
    found = endpoint is not None and endpoint.active
    url, salt = (endpoint.url, endpoint.salt) if found else ("", "")
    db.session.rollback()  # read only: hold no transaction over the network call
    if not found:
        raise PermanentError("endpoint removed or inactive")
    try:
        pinned = check_target(url, allow_private=bool(app.config.get("WEBHOOK_ALLOW_PRIVATE")))
    except UnsafeTarget as e:
        raise PermanentError(str(e)) from e
    opener = pinned_opener(pinned, _NoRedirect) if pinned else _opener  # resolved once, connected there
    body = webhook_body(message)
    timestamp = str(int(time.time()))
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "supervision-webhook/1",
        "X-Supervision-Event": message.event,
        "X-Supervision-Delivery": message.idempotency_key,
        "X-Supervision-Timestamp": timestamp,
        "X-Supervision-Signature": sign(endpoint_secret(salt, app.config["SECRET_KEY"]), timestamp, body),
    })
    timeout = float(app.config.get("WEBHOOK_TIMEOUT") or 10)
    try:
        with opener.open(req, timeout=timeout) as resp:
            excerpt = resp.read(2000).decode("utf-8", "replace")
            return Receipt(resp.status, excerpt)
    except urllib.error.HTTPError as e:
        excerpt = e.read(2000).decode("utf-8", "replace") if e.fp else ""
        raise DeliveryError(f"HTTP {e.code}", e.code, excerpt) from e
    except (OSError, urllib.error.URLError) as e:
        raise DeliveryError(f"{type(e).__name__}: {getattr(e, 'reason', e)}") from e


register_channel("email", send_email)
register_channel("webhook", send_webhook)

# Work-app channels ("robot", "workapp") register themselves on import (docs/messages.md).
from webapp.outbox import workapps  # noqa: E402, F401
