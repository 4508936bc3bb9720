"""Previews kept between the upload and the confirmation, and the new users' temporary passwords
kept for one download.

A preview is a JSON file under <instance>/onboarding/, named by a random id, holding the uploading
administrator's id, the file's SHA-256, the rows as read and the preview shown. Only that
administrator can open it; it expires after PREVIEW_HOURS and is deleted once applied.

The passwords are never written in clear: the spreadsheet of them is encrypted with a random key
that is kept only in the administrator's session (a keystream of SHA-256 in counter mode, with an
HMAC over the result), and the file is deleted at its first download or after PASSWORDS_MINUTES.
"""

import hashlib
import hmac
import json
import os
import re
import secrets
import time
from pathlib import Path

from flask import current_app, session

PREVIEW_HOURS = 24
PASSWORDS_MINUTES = 30
ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "onboarding"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _path(preview_id: str, suffix: str) -> Path | None:
    if not isinstance(preview_id, str) or not ID.match(preview_id):
        return None
    return _folder() / f"{preview_id}{suffix}"


def prune() -> None:
    now = time.time()
    for path in _folder().iterdir():
        age = now - path.stat().st_mtime
        limit = PREVIEW_HOURS * 3600 if path.suffix == ".json" else PASSWORDS_MINUTES * 60
        if age > limit:
            path.unlink(missing_ok=True)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)


def save_preview(owner_id: str, doc: dict, preview_id: str | None = None) -> str:
    prune()
    preview_id = preview_id or secrets.token_urlsafe(18)
    doc = {**doc, "id": preview_id, "owner": owner_id, "created": doc.get("created") or time.time()}
    _write(_path(preview_id, ".json"), json.dumps(doc, ensure_ascii=False).encode())
    return preview_id


def load_preview(preview_id: str, owner_id: str) -> dict | None:
    """The preview, or None when unknown, expired or another administrator's."""
    path = _path(preview_id, ".json")
    if path is None or not path.exists():
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if doc.get("owner") != owner_id or time.time() - doc.get("created", 0) > PREVIEW_HOURS * 3600:
        return None
    return doc


def drop_preview(preview_id: str) -> None:
    path = _path(preview_id, ".json")
    if path is not None:
        path.unlink(missing_ok=True)


# ---- the passwords, for one download ------------------------------------------------------------

def _keystream(key: bytes, nonce: bytes, n: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(key + nonce + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:n])


def keep_passwords(preview_id: str, owner_id: str, data: bytes) -> None:
    key = secrets.token_bytes(32)
    nonce = secrets.token_bytes(16)
    body = bytes(a ^ b for a, b in zip(data, _keystream(key, nonce, len(data)), strict=True))
    tag = hmac.new(key, owner_id.encode() + nonce + body, hashlib.sha256).digest()
    _write(_path(preview_id, ".pw"), nonce + tag + body)
    keys = session.get("onboarding_keys") if isinstance(session.get("onboarding_keys"), dict) else {}
    keys = dict(list(keys.items())[-4:])  # the cookie stays small: an older, never downloaded file is lost
    keys[preview_id] = key.hex()
    session["onboarding_keys"] = keys


def take_passwords(preview_id: str, owner_id: str) -> bytes | None:
    """The spreadsheet once: the file and the key are gone afterwards."""
    keys = session.get("onboarding_keys") or {}
    key_hex = keys.pop(preview_id, None) if isinstance(keys, dict) else None
    session["onboarding_keys"] = keys
    path = _path(preview_id, ".pw")
    if path is None or not path.exists() or not key_hex:
        return None
    age = time.time() - path.stat().st_mtime
    raw = path.read_bytes()
    path.unlink(missing_ok=True)
    if age > PASSWORDS_MINUTES * 60:
        return None
    key = bytes.fromhex(key_hex)
    nonce, tag, body = raw[:16], raw[16:48], raw[48:]
    if not hmac.compare_digest(tag, hmac.new(key, owner_id.encode() + nonce + body, hashlib.sha256).digest()):
        return None
    return bytes(a ^ b for a, b in zip(body, _keystream(key, nonce, len(body)), strict=True))
