"""Webhook endpoints: the shared secret (derived, never stored), the signature, and the SSRF guard."""

import hashlib
import hmac
import ipaddress
import socket
from urllib.parse import urlsplit

EVENTS = ("finding.recorded", "report.approved", "rectification.submitted", "acceptance.passed",
          "acceptance.failed", "warning.raised")


class UnsafeTarget(ValueError):
    pass


def endpoint_secret(salt: str, secret_key: str) -> str:
    """HMAC-SHA256(SECRET_KEY, "webhook:" + salt), hex: the same every time, stored nowhere. A new
    salt (rotate) makes a new secret; a new SECRET_KEY changes every endpoint's secret."""
    return hmac.new(secret_key.encode(), f"webhook:{salt}".encode(), hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (docs/messages.md has the same code to copy)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def check_url(url: str) -> str:
    """The shape of an endpoint's URL: http(s), a host, no credentials. Raises UnsafeTarget."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise UnsafeTarget("not a URL") from e
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("only http:// and https:// URLs with a host")
    if parts.username or parts.password:
        raise UnsafeTarget("no user name or password in the URL")
    if port == 0:
        raise UnsafeTarget("bad port")
    return url


def check_target(url: str, allow_private: bool = False) -> None:
    """Refuse private, loopback, link-local and other non-public addresses (SSRF), unless allowed."""
    check_url(url)
    if allow_private:
        return
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as e:
        raise UnsafeTarget(f"cannot resolve {parts.hostname}") from e
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global:
            raise UnsafeTarget(f"{parts.hostname} is a private or local address")
