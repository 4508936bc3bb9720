"""Real local receivers for the message tests: an HTTP webhook receiver (werkzeug, in a thread) and
an SMTP server (aiosmtpd), both on 127.0.0.1 with a free port."""

import asyncio
import json
import socket
import threading
import time
from collections import Counter
from email import policy
from email.parser import BytesParser

from aiosmtpd.controller import Controller
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebhookReceiver:
    """Records every delivery and dedupes by X-Supervision-Delivery, as a careful receiver does.

    mode: "ok"; "500" (answers 500, records nothing); "hang" (waits `hang_seconds` before answering,
    records nothing); "ack_then_hang" (processes the delivery, then answers too late, so the sender
    tries again: the duplicate is dropped by key). `fail_next` answers 500 that many times first.
    `down()` stops the server (connection refused); `up()` starts it again on the same port."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.mode = "ok"
        self.fail_next = 0
        self.hang_seconds = 3.0
        self.delay = 0.0
        self.raw: list[dict] = []  # every request that reached the handler
        self.accepted: Counter = Counter()  # key → times processed (must end at 1 each)
        self.duplicates = 0
        self.in_flight: set = set()
        self.overlaps: list = []  # keys delivered by two requests at the same time
        self.lock = threading.Lock()
        self.server = None
        self.thread = None
        self.up()

    def _app(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        key = request.headers.get("X-Supervision-Delivery", "")
        with self.lock:
            self.raw.append({"headers": dict(request.headers), "body": body, "key": key})
            if key in self.in_flight:
                self.overlaps.append(key)
            self.in_flight.add(key)
        try:
            if self.delay:
                time.sleep(self.delay)
            with self.lock:
                if self.fail_next > 0:
                    self.fail_next -= 1
                    return Response("boom", status=500)(environ, start_response)
            if self.mode == "500":
                return Response("server error \x00 <b>", status=500)(environ, start_response)
            if self.mode == "hang":
                time.sleep(self.hang_seconds)
                return Response("late")(environ, start_response)
            with self.lock:
                if key in self.accepted:
                    self.duplicates += 1  # seen before: acknowledged, not processed again
                else:
                    self.accepted[key] += 1
            if self.mode == "ack_then_hang":
                time.sleep(self.hang_seconds)
            return Response(json.dumps({"ok": True}), content_type="application/json")(environ, start_response)
        finally:
            with self.lock:
                self.in_flight.discard(key)

    def up(self):
        self.server = make_server("127.0.0.1", self.port, self._app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def down(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def bodies(self):
        return [json.loads(r["body"]) for r in self.raw]


class SmtpInbox:
    def __init__(self):
        self.messages: list = []
        self.keys: Counter = Counter()

    async def handle_DATA(self, server, session, envelope):
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        self.messages.append(message)
        self.keys[str(message["X-Supervision-Delivery"]).strip()] += 1
        await asyncio.sleep(0)
        return "250 OK"


def start_smtp():
    port = free_port()
    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return inbox, controller, port
