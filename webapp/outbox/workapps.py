"""Work-app channels (docs/messages.md): group robots by webhook (WeCom group robot, DingTalk custom
robot, Feishu custom bot) and messages to one person through the app APIs (WeCom application
message, DingTalk work notification, Feishu IM message). Each is a sender in the outbox registry.

An answer with errcode/code ≠ 0 is a failed attempt (retried with backoff); the codes in
PERMANENT_CODES (a wrong key, token, secret or signature, a removed robot) fail at once.
"""

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from webapp.outbox.channels import DeliveryError, Message, PermanentError, Receipt, _opener, register_channel

ROBOT_KINDS = ("wecom", "dingtalk", "feishu")
PROVIDERS = ("wecom", "dingtalk", "feishu")

# Codes that retrying cannot fix (configuration or a removed robot): the message fails at once.
PERMANENT_CODES = {
    "wecom": {40001, 40014, 40056, 42001, 93000, 60020, 81013},  # bad secret/token/agent, invalid key, IP
    "dingtalk": {40035, 40078, 300001, 310000, 400101, 400102, 88, 33012},  # bad token/keyword/sign
    "feishu": {19001, 19021, 19024, 9499, 99991663, 99991664, 10003, 230001},  # bad hook/sign/token
}


# ---- the signing secret: encrypted at rest with a key derived from SECRET_KEY -----------------------

def _fernet(secret_key: str):
    from cryptography.fernet import Fernet

    key = hashlib.sha256(b"workapp-robot:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(secret.encode()).decode() if secret else ""


def decrypt_secret(token: str, secret_key: str) -> str:
    from cryptography.fernet import InvalidToken

    if not token:
        return ""
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken as e:  # SECRET_KEY changed: the secret must be entered again
        raise PermanentError("signing secret unreadable (SECRET_KEY changed?): enter it again") from e


# ---- signatures (what the robots check) ---------------------------------------------------------------

def dingtalk_sign(timestamp_ms: str, secret: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(mac).decode())


def feishu_sign(timestamp_s: str, secret: str) -> str:
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


# ---- cards ------------------------------------------------------------------------------------------

EVENT_TITLES = {
    "finding.recorded": _l("New finding"),
    "report.approved": _l("Supervision report approved"),
    "rectification.submitted": _l("Rectification submitted for acceptance"),
    "acceptance.passed": _l("Acceptance passed"),
    "acceptance.failed": _l("Acceptance failed"),
    "warning.raised": _l("Early warning"),
}


def _subject(data: dict) -> str:
    for key in ("report", "finding"):
        if isinstance(data.get(key), dict):
            return str(data[key].get("title") or "")
    warning = data.get("warning") or {}
    return str(warning.get("message") or warning.get("subject_name") or "")


def _link_of(data: dict) -> str:
    for key in ("report", "finding", "warning"):
        if isinstance(data.get(key), dict) and data[key].get("link"):
            return str(data[key]["link"])
    return ""


def event_card(code: str, data: dict) -> dict:
    """A group robot's card, in the site's default language (a group has many readers). Its link goes
    through /go/ (webapp/outbox/golinks.py), as a person's card does: a tap on a phone opens the phone app."""
    locale = current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN") if has_app_context() else "zh_CN"
    with force_locale(locale):
        return {"title": str(EVENT_TITLES[code]), "description": _subject(data)[:300],
                "url": absolute(card_link(_own_path(_link_of(data)))), "button": str(_l("Open the page"))}


def _own_path(link: str) -> str:
    """An event's link (PUBLIC_URL + path in the payload) back to its path on this site."""
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/") if has_app_context() else ""
    if base and link.startswith(base + "/"):
        return link[len(base):]
    return link


def short_ref(idempotency_key: str) -> str:
    """A short form of a delivery's key, shown in the text of cards whose APIs cannot drop a repeat
    (group robots, DingTalk work notifications): the same on every try, so a reader who sees the same
    "#a1b2c3" twice knows it is one message delivered twice (docs/messages.md)."""
    return "#" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:6]


def with_ref(card: dict, idempotency_key: str) -> dict:
    return {**card, "description": f"{card['description']}\n\n— {short_ref(idempotency_key)}"}


def person_card(title: str, locale: str, link: str | None) -> dict:
    """A person's card, in their language: the notification's text, and its page."""
    with force_locale(locale):
        return {"title": str(_l("Operations supervision")), "description": title[:300],
                "url": absolute(card_link(link) or "/"), "button": str(_l("Open the page"))}


def card_link(path):
    from webapp.outbox.golinks import card_link as go_link

    return go_link(path)


def absolute(path: str) -> str:
    if path.startswith(("http://", "https://")):
        return path
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/") if has_app_context() else ""
    return base + (path or "/")


def robot_body(kind: str, card: dict) -> dict:
    title, text, url = card["title"], card["description"], card["url"]
    button = card.get("button") or "Open"
    if kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{text}\n[{button}]({url})"}}
    if kind == "dingtalk":
        return {"msgtype": "actionCard", "actionCard": {"title": title, "text": f"### {title}\n{text}",
                                                        "singleTitle": button, "singleURL": url}}
    return {"msg_type": "interactive", "card": feishu_card(card)}


def feishu_card(card: dict) -> dict:
    return {"header": {"title": {"tag": "plain_text", "content": card["title"]}},
            "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": card["description"]}},
                         {"tag": "action", "actions": [{"tag": "button", "type": "primary",
                                                        "text": {"tag": "plain_text",
                                                                 "content": card.get("button") or "Open"},
                                                        "url": card["url"]}]}]}


# ---- HTTP -------------------------------------------------------------------------------------------

def _call(url: str, body: dict | None, timeout: float, headers: dict | None = None) -> dict:
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "supervision-workapp/1", **(headers or {})})
    try:
        with _opener.open(req, timeout=timeout) as resp:
            text = resp.read(4000).decode("utf-8", "replace")
            status = resp.status
    except urllib.error.HTTPError as e:
        text = e.read(2000).decode("utf-8", "replace") if e.fp else ""
        raise DeliveryError(f"HTTP {e.code}", e.code, text) from e
    except (OSError, urllib.error.URLError) as e:
        raise DeliveryError(f"{type(e).__name__}: {getattr(e, 'reason', e)}") from e
    try:
        answer = json.loads(text)
    except ValueError as e:
        raise DeliveryError("not a JSON answer", status, text) from e
    if not isinstance(answer, dict):
        raise DeliveryError("not a JSON object", status, text)
    answer["_status"], answer["_text"] = status, text
    return answer


def _check(provider: str, answer: dict) -> Receipt:
    code = answer.get("errcode", answer.get("code", 0))
    if code not in (0, "0", None):
        try:
            number = int(code)
        except (TypeError, ValueError):
            number = None
        error = PermanentError if number in PERMANENT_CODES[provider] else DeliveryError
        raise error(f"{provider} answered code {code}", answer["_status"], answer["_text"])
    return Receipt(answer["_status"], answer["_text"])


def _timeout(app) -> float:
    return float(app.config.get("WORKAPP_TIMEOUT") or app.config.get("WEBHOOK_TIMEOUT") or 10)


# ---- robots -----------------------------------------------------------------------------------------

def send_robot(message: Message, app) -> Receipt:
    from webapp.extensions import db
    from webapp.outbox.models import WorkAppRobot
    from webapp.outbox.webhooks import UnsafeTarget, check_target

    robot = db.session.get(WorkAppRobot, message.recipient)
    found = robot is not None and robot.active
    kind, url, sealed = (robot.kind, robot.url, robot.secret_encrypted) if found else ("", "", "")
    db.session.rollback()
    if not found:
        raise PermanentError("robot removed or inactive")
    try:
        check_target(url, allow_private=bool(app.config.get("WEBHOOK_ALLOW_PRIVATE")))
    except UnsafeTarget as e:
        raise PermanentError(str(e)) from e
    secret = decrypt_secret(sealed, app.config["SECRET_KEY"])
    body = robot_body(kind, with_ref(message.payload["card"], message.idempotency_key))
    if kind == "dingtalk" and secret:
        ts = str(int(time.time() * 1000))
        url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={dingtalk_sign(ts, secret)}"
    if kind == "feishu" and secret:
        ts = str(int(time.time()))
        body.update(timestamp=ts, sign=feishu_sign(ts, secret))
    return _check(kind, _call(url, body, _timeout(app)))


# ---- messages to one person -------------------------------------------------------------------------

def configured_providers(cfg) -> list[str]:
    out = []
    if cfg.get("WECOM_CORP_ID") and cfg.get("WECOM_SECRET") and cfg.get("WECOM_AGENT_ID"):
        out.append("wecom")
    if cfg.get("DINGTALK_CLIENT_ID") and cfg.get("DINGTALK_CLIENT_SECRET") and cfg.get("DINGTALK_AGENT_ID"):
        out.append("dingtalk")
    if cfg.get("FEISHU_APP_ID") and cfg.get("FEISHU_APP_SECRET"):
        out.append("feishu")
    return out


def _q(params: dict) -> str:
    return urllib.parse.urlencode(params)


def send_wecom(message: Message, app) -> Receipt:
    cfg, p = app.config, message.payload
    base = (cfg.get("WECOM_API_BASE") or "https://qyapi.weixin.qq.com").rstrip("/")
    token = _check("wecom", _call(f"{base}/cgi-bin/gettoken?" + _q(
        {"corpid": cfg["WECOM_CORP_ID"], "corpsecret": cfg["WECOM_SECRET"]}), None, _timeout(app)))
    access = json.loads(token.response)["access_token"]
    card = p["card"]
    body = {"touser": p["userid"], "msgtype": "textcard", "agentid": int(cfg["WECOM_AGENT_ID"]),
            "textcard": {"title": card["title"], "description": card["description"], "url": card["url"],
                         "btntxt": card.get("button") or "Open"},
            "enable_duplicate_check": 1, "duplicate_check_interval": 14400}
    return _check("wecom", _call(f"{base}/cgi-bin/message/send?" + _q({"access_token": access}), body,
                                 _timeout(app)))


def send_dingtalk(message: Message, app) -> Receipt:
    cfg, p = app.config, message.payload
    base = (cfg.get("DINGTALK_OAPI_BASE") or "https://oapi.dingtalk.com").rstrip("/")
    token = _check("dingtalk", _call(f"{base}/gettoken?" + _q(
        {"appkey": cfg["DINGTALK_CLIENT_ID"], "appsecret": cfg["DINGTALK_CLIENT_SECRET"]}), None, _timeout(app)))
    access = json.loads(token.response)["access_token"]
    found = _check("dingtalk", _call(f"{base}/topapi/user/getbyunionid?" + _q({"access_token": access}),
                                     {"unionid": p["userid"]}, _timeout(app)))
    userid = (json.loads(found.response).get("result") or {}).get("userid")
    if not userid:
        raise PermanentError("DingTalk user not found for this unionId", found.status_code, found.response)
    card = with_ref(p["card"], message.idempotency_key)  # DingTalk cannot drop a repeat: the reader can
    body = {"agent_id": int(cfg["DINGTALK_AGENT_ID"]), "userid_list": userid,
            "msg": {"msgtype": "action_card", "action_card": {
                "title": card["title"], "markdown": f"### {card['title']}\n{card['description']}",
                "single_title": card.get("button") or "Open", "single_url": card["url"]}}}
    return _check("dingtalk", _call(
        f"{base}/topapi/message/corpconversation/asyncsend_v2?" + _q({"access_token": access}), body, _timeout(app)))


def send_feishu(message: Message, app) -> Receipt:
    cfg, p = app.config, message.payload
    base = (cfg.get("FEISHU_API_BASE") or "https://open.feishu.cn").rstrip("/")
    token = _check("feishu", _call(f"{base}/open-apis/auth/v3/tenant_access_token/internal",
                                   {"app_id": cfg["FEISHU_APP_ID"], "app_secret": cfg["FEISHU_APP_SECRET"]},
                                   _timeout(app)))
    access = json.loads(token.response)["tenant_access_token"]
    uuid = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:50]  # Feishu dedupes on it (1 hour)
    body = {"receive_id": p["userid"], "msg_type": "interactive",
            "content": json.dumps(feishu_card(p["card"]), ensure_ascii=False), "uuid": uuid}
    return _check("feishu", _call(f"{base}/open-apis/im/v1/messages?receive_id_type=union_id", body,
                                  _timeout(app), {"Authorization": f"Bearer {access}"}))


SENDERS = {"wecom": send_wecom, "dingtalk": send_dingtalk, "feishu": send_feishu}


def send_person(message: Message, app) -> Receipt:
    provider = message.payload.get("provider")
    if provider not in configured_providers(app.config):
        raise PermanentError(f"{provider} is not configured")
    return SENDERS[provider](message, app)


register_channel("robot", send_robot)
register_channel("workapp", send_person)


# ---- robots' addresses ------------------------------------------------------------------------------

ROBOT_HOSTS = {"wecom": ("qyapi.weixin.qq.com", "/cgi-bin/webhook/send"),
               "dingtalk": ("oapi.dingtalk.com", "/robot/send"),
               "feishu": ("open.feishu.cn", "/open-apis/bot/v2/hook/")}


def url_matches_kind(kind: str, url: str) -> bool:
    """The robot's webhook address is at its work app (https, the documented host and path), or —
    for stand-ins and private gateways, WEBHOOK_ALLOW_PRIVATE=1 — a private IP address with that path."""
    parts = urllib.parse.urlsplit(url)
    host, path = ROBOT_HOSTS[kind]
    if not parts.path.startswith(path):
        return False
    if parts.scheme == "https" and parts.hostname == host:
        return True
    if has_app_context() and current_app.config.get("WEBHOOK_ALLOW_PRIVATE"):
        import ipaddress

        try:
            return not ipaddress.ip_address(parts.hostname or "").is_global
        except ValueError:
            return False
    return False
