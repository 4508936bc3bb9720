"""Benchmark of POST /api/v1/sync/push: 50 simulated devices push 10,000 findings and then an edit
of each (20,000 mutations, batches of 100) against gunicorn with 2 workers, on SQLite and on
PostgreSQL. Prints mutations/s, p50/p95 latency per batch, and the ratio against a bare bulk insert
and update of the same rows on the same database (the physical floor).

    .venv/bin/python bench/sync_push.py [--db sqlite|postgresql|both] [--findings 10000]

Target: >= 1,000 mutations/s on each database and within 5x of the floor. A benchmark, not a test.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text, update  # noqa: E402

from tests.sync.servers import Server  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DEVICES = 50
BATCH = 100


def prepare(db_url: str, devices: int):
    """Schema by the real migrations, an org, one supervisor + visit + token per device."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.auth.operations import issue_token
    from webapp.extensions import db
    from webapp.models import ChecklistTemplate, Department, Site, User, Visit

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        dept = Department(code="BENCH", name="基准部门")
        db.session.add(dept)
        db.session.flush()
        site = Site(code="BENCH-S", name="基准场所", department_id=dept.id)
        tpl = ChecklistTemplate(code="BENCH-T", name="模板")
        db.session.add_all([site, tpl])
        db.session.flush()
        out = []
        for i in range(devices):
            user = User(username=f"bench{i}", display_name=f"督导{i}", role="supervisor", password_hash="x")
            db.session.add(user)
            db.session.flush()
            visit = Visit(site_id=site.id, department_id=dept.id, template_id=tpl.id, supervisor_id=user.id,
                          status="in_progress")
            db.session.add(visit)
            db.session.flush()
            out.append({"token": issue_token(user, "bench"), "visit_id": visit.id, "site_id": site.id,
                        "user_id": user.id, "dept_id": dept.id})
        db.session.commit()
        db.engine.dispose()
    return out


def device_batches(dev: dict, per_device: int) -> list[list[dict]]:
    now = datetime.now(UTC).isoformat()
    ids = [str(uuid.uuid4()) for _ in range(per_device)]
    creates = [{"mutation_id": str(uuid.uuid4()), "entity": "finding", "id": fid, "op": "upsert", "base_version": 0,
                "client_time": now, "data": {"visit_id": dev["visit_id"], "title": f"问题 {n}", "severity": "medium",
                                             "area": "process", "description": "地面湿滑，未设置警示标识",
                                             "captured_at": now}}
               for n, fid in enumerate(ids)]
    edits = [{"mutation_id": str(uuid.uuid4()), "entity": "finding", "id": fid, "op": "upsert", "base_version": 1,
              "client_time": now, "data": {"severity": "high", "impact": "全店顾客"}} for fid in ids]
    muts = creates + edits
    return [muts[i:i + BATCH] for i in range(0, len(muts), BATCH)]


def run_pushes(base: str, devices: list[dict], per_device: int, parallel: int):
    latencies = []
    lock = threading.Lock()
    statuses = {}

    def run_device(dev):
        device_id = str(uuid.uuid4())
        for batch in device_batches(dev, per_device):
            body = json.dumps({"device_id": device_id, "mutations": batch}).encode()
            req = urllib.request.Request(base + "/api/v1/sync/push", data=body, method="POST", headers={
                "Content-Type": "application/json", "Authorization": f"Bearer {dev['token']}"})
            t0 = time.perf_counter()
            with urllib.request.urlopen(req, timeout=300) as r:
                results = json.loads(r.read())["results"]
            dt = time.perf_counter() - t0
            with lock:
                latencies.append(dt)
                for res in results:
                    statuses[res["status"]] = statuses.get(res["status"], 0) + 1

    t0 = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(run_device, devices))
    return time.perf_counter() - t0, latencies, statuses


def floor(db_url: str, devices: list[dict], per_device: int) -> float:
    """The same rows written with bare executemany INSERTs and UPDATEs, one transaction per 100."""
    from webapp.findings.models import Finding

    engine = create_engine(db_url)
    table = Finding.__table__
    now = datetime.now(UTC)
    rows = []
    for dev in devices:
        for n in range(per_device):
            rows.append({"id": str(uuid.uuid4()), "visit_id": dev["visit_id"], "site_id": dev["site_id"],
                         "supervisor_id": dev["user_id"], "department_id": dev["dept_id"], "title": f"问题 {n}",
                         "severity": "medium", "area": "process", "description": "地面湿滑，未设置警示标识",
                         "photos": [], "status": "open", "captured_at": now, "created_at": now, "updated_at": now,
                         "version": 1, "has_conflict": False})
    upd = update(table).where(table.c.id == text(":fid")).values(severity="high", impact="全店顾客", version=2)
    t0 = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        with engine.begin() as conn:
            conn.execute(table.insert(), rows[i:i + BATCH])
    for i in range(0, len(rows), BATCH):
        with engine.begin() as conn:
            conn.execute(upd, [{"fid": r["id"]} for r in rows[i:i + BATCH]])
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return 2 * len(rows) / elapsed


def bench(kind: str, findings: int, parallel: int):
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-sync-{kind}-"))
    admin = None
    if kind == "sqlite":
        db_url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        name = f"bench_sync_{os.getpid()}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        db_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        devices = prepare(db_url, DEVICES)
        per_device = findings // DEVICES
        server = Server(db_url, tmp / "instance", workers=2).start()
        try:
            elapsed, latencies, statuses = run_pushes(server.base, devices, per_device, parallel)
        finally:
            server.stop()
        total = sum(statuses.values())
        rate = total / elapsed
        floor_rate = floor(db_url, devices, per_device)
        q = statistics.quantiles(latencies, n=100)
        print(f"== {kind}: {total} mutations ({findings} findings created + {findings} edited) from {DEVICES} devices, "
              f"batches of {BATCH}, {parallel} pushing at once, gunicorn -w 2")
        print(f"   statuses: {statuses}")
        print(f"   sync push:  {rate:8.0f} mutations/s   (elapsed {elapsed:.1f} s)")
        print(f"   per batch:  p50 {q[49] * 1000:6.0f} ms   p95 {q[94] * 1000:6.0f} ms")
        print(f"   bare floor: {floor_rate:8.0f} rows/s  -> sync is {floor_rate / rate:.1f}x the floor "
              f"(target <= 5x, >= 1000 mutations/s: {'met' if rate >= 1000 and floor_rate / rate <= 5 else 'NOT met'})")
        sys.stdout.flush()
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--parallel", type=int, default=4, help="devices pushing at the same moment")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    for kind in kinds:
        bench(kind, args.findings, args.parallel)


if __name__ == "__main__":
    main()
