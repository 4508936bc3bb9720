"""The SSRF guard resolves a webhook's host once and connects to that checked address (no DNS
rebinding window between the check and the connect); the Host header keeps the URL's name."""

import socket
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from webapp.outbox import webhooks
from webapp.outbox.webhooks import UnsafeTarget, check_target, pinned_opener

PUBLIC = "93.184.216.34"


def _fake_dns(monkeypatch, *answers):
    asked = []

    def getaddrinfo(host, port, proto=0):
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[min(len(asked), len(answers)) - 1], port))]

    monkeypatch.setattr(webhooks, "socket", SimpleNamespace(getaddrinfo=getaddrinfo, IPPROTO_TCP=socket.IPPROTO_TCP,
                                                            create_connection=socket.create_connection))
    return asked


def test_a_name_resolving_to_loopback_is_refused(monkeypatch):
    _fake_dns(monkeypatch, "127.0.0.1")
    with pytest.raises(UnsafeTarget):
        check_target("https://rebind.example.com/hook")
    assert check_target("https://rebind.example.com/hook", allow_private=True) is None  # the test setting


def test_the_connection_goes_to_the_checked_address_not_a_second_answer(monkeypatch):
    asked = _fake_dns(monkeypatch, PUBLIC, "127.0.0.1")  # a rebinding resolver: public, then loopback
    address = check_target("http://rebind.example.com:8080/hook")
    assert address == PUBLIC
    connected = []

    def create_connection(addr, timeout=None, source=None):
        connected.append(addr)
        raise OSError("no network in this test")

    monkeypatch.setattr(webhooks.socket, "create_connection", create_connection)
    with pytest.raises(OSError):
        pinned_opener(address, urllib.request.HTTPRedirectHandler).open("http://rebind.example.com:8080/hook", timeout=1)
    assert connected == [(PUBLIC, 8080)] and asked == ["rebind.example.com"]


def test_the_host_header_keeps_the_urls_name():
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen["host"] = self.headers["Host"]
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.handle_request, daemon=True).start()
    port = server.server_address[1]
    req = urllib.request.Request(f"http://hooks.example.com:{port}/x", data=b"{}", method="POST")
    with pinned_opener("127.0.0.1", urllib.request.HTTPRedirectHandler).open(req, timeout=5) as resp:
        assert resp.status == 204
    server.server_close()
    assert seen["host"] == f"hooks.example.com:{port}"
