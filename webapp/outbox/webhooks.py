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


def check_target(url: str, allow_private: bool = False) -> str | None:
    """Refuse private, loopback, link-local and other non-public addresses (SSRF), unless allowed.
    Returns the checked public address to connect to (None when private receivers are allowed): the
    caller pins the connection to it (`pinned_opener`), so a second DNS answer — a rebinding to
    127.0.0.1 between the check and the connect — is never asked for."""
    check_url(url)
    if allow_private:
        return None
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
    if not infos:
        raise UnsafeTarget(f"cannot resolve {parts.hostname}")
    return infos[0][4][0]


def pinned_opener(address: str, redirect_handler):
    """A urllib opener whose connections go to `address` whatever the URL's host resolves to now;
    the Host header, TLS SNI and certificate check keep the URL's host name."""
    import http.client
    import ssl
    import urllib.request

    def _connect(conn):
        return socket.create_connection((address, conn.port), conn.timeout, conn.source_address)

    class PinnedHTTPConnection(http.client.HTTPConnection):
        def connect(self):
            self.sock = _connect(self)

    class PinnedHTTPSConnection(http.client.HTTPSConnection):
        def connect(self):
            sock = _connect(self)
            context = ssl.create_default_context()
            self.sock = context.wrap_socket(sock, server_hostname=self.host)

    class PinnedHTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(PinnedHTTPConnection, req)

    class PinnedHTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(PinnedHTTPSConnection, req)

    return urllib.request.build_opener(redirect_handler, PinnedHTTPHandler, PinnedHTTPSHandler)
