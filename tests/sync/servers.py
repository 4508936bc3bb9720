"""Real app servers (gunicorn in their own process groups) on the test database, and an HTTP client
with the interface of Flask's test client, so the same simulated devices drive either."""

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db_url: str, instance: Path, workers: int = 1, clock: datetime | None = None):
        """`clock`: the server's "now" when it starts (tests pass their pinned clock's now; it ticks
        from there — tests/clocked_app.py); None: the real clock (benchmarks)."""
        self.db_url, self.instance, self.workers, self.clock = db_url, instance, workers, clock
        self.proc = None
        self.base = None

    def start(self):
        self.instance.mkdir(parents=True, exist_ok=True)
        port = free_port()
        env = {**os.environ, "DATABASE_URL": self.db_url, "SECRET_KEY": "test-secret",
               "INSTANCE_PATH": str(self.instance), "MEDIA_ROOT": str(self.instance / "media")}
        if self.clock is not None:
            env["TEST_CLOCK"] = self.clock.isoformat()
        self.log = open(self.instance / f"server-{port}.log", "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "-b", f"127.0.0.1:{port}",
             "--timeout", "120", "tests.clocked_app:app" if self.clock is not None else "webapp:create_app()"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True)
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + "/api/v1/health", timeout=2)
                return self
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError("server did not start")

    def kill(self):
        """SIGKILL the whole process group (master and workers) — a crash, no clean shutdown."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        if getattr(self, "log", None):
            self.log.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if getattr(self, "log", None):
            self.log.close()


class Response:
    def __init__(self, status, body: bytes):
        self.status_code = status
        self._body = body

    def get_json(self):
        return json.loads(self._body)

    def get_data(self, as_text=False):
        return self._body.decode() if as_text else self._body


class HttpClient:
    """post/get like Flask's test client, against one of several servers chosen at random."""

    def __init__(self, bases: list[str], seed=None, timeout=120):
        self.bases = bases
        self.random = random.Random(seed)
        self.timeout = timeout

    def open(self, method, url, json_body=None, headers=None, query_string=None):
        base = self.random.choice(self.bases)
        if query_string:
            url += "?" + urlencode(query_string)
        data = None
        headers = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(base + url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return Response(r.status, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.read())

    def post(self, url, json=None, headers=None, **_kw):
        return self.open("POST", url, json, headers)

    def get(self, url, headers=None, query_string=None, **_kw):
        return self.open("GET", url, None, headers, query_string)
