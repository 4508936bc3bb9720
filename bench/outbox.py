"""Benchmark: webhook deliveries through the outbox + job queue (huey, 2 worker threads) against
sending directly in the request (the strongest simple alternative), side by side in one run.

    .venv/bin/python bench/outbox.py [--n 300] [--receiver-ms 20] [--pg URL]

Two "request" threads each commit N/2 changes. Outbox: each change enqueues a message in its
transaction; a real huey consumer (SqliteHuey file, 2 threads) delivers after the commit. Direct: each
request commits, then POSTs the signed webhook itself before answering. The local HTTP receiver
answers after --receiver-ms (a remote endpoint is never instant) and counts only successful,
first-time deliveries by X-Supervision-Delivery. Prints deliveries per second, commit-to-delivery
latency p50/p95, the request's own time p50/p95, and the ratios. Not part of the test suite.
"""

import argparse
import secrets
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402
from werkzeug.wrappers import Request, Response  # noqa: E402

from bench._timing import p95  # noqa: E402


class Receiver:
    def __init__(self, delay_s: float):
        self.delay_s, self.arrived, self.lock = delay_s, {}, threading.Lock()
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _app(self, environ, start_response):
        key = Request(environ).headers.get("X-Supervision-Delivery", "")
        time.sleep(self.delay_s)
        with self.lock:
            self.arrived.setdefault(key, time.perf_counter())  # successful, first time only
        return Response("ok")(environ, start_response)


def _pct(values):
    return (statistics.median(values) * 1000, p95(values) * 1000) if values else (float("nan"), float("nan"))


def _pace(started, i, rate):
    """Arrivals at `rate` requests per second in all (0: a burst, as fast as the requests go)."""
    if rate:
        wait = started + i / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)


def run_outbox(app, endpoint_id, receiver, n, tmp, rate):
    from webapp.extensions import db
    from webapp.jobs import get_huey
    from webapp.outbox.operations import enqueue_message

    app.config.update(HUEY_URL=f"sqlite:///{tmp / 'jobs.db'}", HUEY_NAME=f"bench-{secrets.token_hex(3)}")
    app.extensions.pop("huey", None)
    huey = get_huey(app)
    consumer = huey.create_consumer(workers=2, worker_type="thread", periodic=False, initial_delay=0.01,
                                    max_delay=0.05, check_worker_health=False)
    consumer._set_signal_handlers = lambda: None
    consumer.start()
    committed, request_times = {}, []

    def requests(part):
        with app.app_context():
            for i in range(part, n, 2):
                _pace(started, i, rate)
                t0 = time.perf_counter()
                key = enqueue_message("webhook", "finding.recorded", endpoint_id, {"n": i}).idempotency_key
                db.session.commit()
                t1 = time.perf_counter()
                committed[key] = t1
                request_times.append(t1 - t0)
            db.session.remove()

    started = time.perf_counter()
    threads = [threading.Thread(target=requests, args=(p,)) for p in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deadline = time.perf_counter() + 120
    while len(receiver.arrived) < n and time.perf_counter() < deadline:
        time.sleep(0.01)
    elapsed = max(receiver.arrived.values(), default=started) - started
    consumer.stop(graceful=True)
    huey.storage.flush_all()
    latencies = [receiver.arrived[k] - c for k, c in committed.items() if k in receiver.arrived]
    return len(latencies), elapsed, latencies, request_times


def run_direct(app, endpoint_id, receiver, n, rate):
    """The alternative: the request commits, then sends the webhook itself, signed the same way."""
    from webapp.extensions import db
    from webapp.outbox.channels import Message, webhook_body
    from webapp.outbox.models import WebhookEndpoint
    from webapp.outbox.webhooks import endpoint_secret, sign

    latencies, request_times, ok = [], [], []

    def requests(part):
        with app.app_context():
            endpoint = db.session.get(WebhookEndpoint, endpoint_id)
            url, secret = endpoint.url, endpoint_secret(endpoint.salt, app.config["SECRET_KEY"])
            for i in range(part, n, 2):
                _pace(started, i, rate)
                t0 = time.perf_counter()
                key = f"direct:{i}:{secrets.token_hex(4)}"
                db.session.execute(text("UPDATE webhook_endpoints SET active = active WHERE id = :id"),
                                   {"id": endpoint_id})  # the change
                db.session.commit()
                t1 = time.perf_counter()
                body = webhook_body(Message(0, "webhook", "finding.recorded", endpoint_id, {"n": i}, key, 1))
                ts = str(int(time.time()))
                req = urllib.request.Request(url, data=body, method="POST", headers={
                    "Content-Type": "application/json", "X-Supervision-Delivery": key,
                    "X-Supervision-Event": "finding.recorded", "X-Supervision-Timestamp": ts,
                    "X-Supervision-Signature": sign(secret, ts, body)})
                try:
                    with urllib.request.urlopen(req, timeout=10) as resp:
                        if 200 <= resp.status < 300:
                            ok.append(key)
                except OSError:
                    pass  # lost: the request has nothing to retry with
                t2 = time.perf_counter()
                request_times.append(t2 - t0)
                if key in receiver.arrived:
                    latencies.append(receiver.arrived[key] - t1)
            db.session.remove()

    started = time.perf_counter()
    threads = [threading.Thread(target=requests, args=(p,)) for p in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(ok), time.perf_counter() - started, latencies, request_times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--receiver-ms", type=float, default=20)
    ap.add_argument("--rate", type=float, default=0, help="requests per second (0: a burst)")
    ap.add_argument("--pg", default=None)
    opts = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url, admin, name = f"sqlite:///{tmp / 'bench.db'}", None, None
    if opts.pg:
        name = f"bench_outbox_{secrets.token_hex(3)}"
        admin = create_engine(opts.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = opts.pg.rsplit("/", 1)[0] + "/" + name
    try:
        from flask_migrate import upgrade

        from webapp import create_app
        from webapp.extensions import db
        from webapp.outbox.models import WebhookEndpoint

        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MEDIA_ROOT": str(tmp / "media"), "SECRET_KEY": "b",
                          "WEBHOOK_ALLOW_PRIVATE": True})
        receiver = Receiver(opts.receiver_ms / 1000)
        with app.app_context():
            upgrade()
            ep = WebhookEndpoint(name="bench", url=receiver.url, events=["finding.recorded"], salt="bench")
            db.session.add(ep)
            db.session.commit()
            endpoint_id = ep.id
        db_label = "PostgreSQL" if opts.pg else "SQLite"
        arrivals = f"{opts.rate:g} requests/s" if opts.rate else "a burst"
        print(f"outbox bench: {opts.n} deliveries, 2 request threads ({arrivals}), receiver answers in "
              f"{opts.receiver_ms:g} ms, {db_label}")
        a_n, a_s, a_lat, a_req = run_outbox(app, endpoint_id, receiver, opts.n, tmp, opts.rate)
        b_n, b_s, b_lat, b_req = run_direct(app, endpoint_id, receiver, opts.n, opts.rate)
        rows = [("outbox + queue (2 workers)", a_n, a_s, a_lat, a_req), ("direct in the request", b_n, b_s, b_lat, b_req)]
        print(f"{'':28} {'delivered':>9} {'per s':>8} {'commit→delivery p50/p95 ms':>28} {'request p50/p95 ms':>20}")
        for label, count, secs, lat, req in rows:
            lp50, lp95 = _pct(lat)
            rp50, rp95 = _pct(req)
            print(f"{label:28} {count:>9} {count / secs if secs else 0:>8.1f} {lp50:>13.1f} / {lp95:<12.1f} "
                  f"{rp50:>9.1f} / {rp95:<9.1f}")
        rate = (a_n / a_s) / (b_n / b_s) if a_s and b_s and b_n else float("nan")
        print(f"ratios (outbox / direct): deliveries per second ×{rate:.2f}, "
              f"commit→delivery p50 ×{_pct(a_lat)[0] / _pct(b_lat)[0]:.2f}, "
              f"request p50 ×{_pct(a_req)[0] / _pct(b_req)[0]:.2f}")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
