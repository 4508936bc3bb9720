"""Benchmark of POST /api/v1/sync/push on the case sync exists for: supervisors who use two devices
(a phone and a tablet) edit the same findings while offline, so a fifth of all mutations edit a record
another device changed. Against gunicorn with 2 workers and 4 clients pushing at once, on SQLite and
on PostgreSQL. Prints, in one run, the mutations/s that succeeded — `applied`, `merged` and
`conflict` counted and reported separately, anything else (rejected, duplicate) reported and NOT
counted — p50/p95 per batch, and the ratio to the baseline: the same rows inserted, updated and
deleted by bare executemany statements from the same number of concurrent clients.

    .venv/bin/python bench/sync_push.py [--db sqlite|postgresql|both] [--findings 10000] [--parallel 4]

The mix, per supervisor (25 supervisors, 2 devices each = 50 devices, batches of 100):
  phone:  creates F findings; then edits 95 % of them (severity) and deletes 5 %  — its own changes;
  tablet: last saw every finding at version 1 and edits half of them: half of those the same field
          the phone changed (a conflict for a person to resolve, or the tombstone of a deleted one),
          the other half another field (merged).
So per F findings: F creates + F phone mutations + F/2 tablet edits, of which F/2 = 20 % of all
mutations edit a record another device changed.

Goals (issue #20): >= 4,000 counted mutations/s on PostgreSQL, >= 2,000/s on SQLite, <= 3x the
baseline. A benchmark, not a test.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from tests.sync.servers import Server  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SUPERVISORS = 25
BATCH = 100
COUNTED = ("applied", "merged", "conflict")


def prepare(db_url: str, supervisors: int):
    """Schema by the real migrations, an org, one supervisor + visit + token per supervisor."""
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
        for i in range(supervisors):
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


def plan(sup: dict, per_sup: int, rng: random.Random) -> dict:
    """The findings of one supervisor and what each device does to them (also used by the baseline)."""
    ids = [str(uuid.uuid4()) for _ in range(per_sup)]
    deleted = set(rng.sample(ids, per_sup // 20))
    tablet = rng.sample(ids, per_sup // 2)
    same_field = set(tablet[: len(tablet) // 2])
    return {"ids": ids, "deleted": deleted, "tablet": tablet, "same_field": same_field}


def mutation(entity_id, op, base, data=None, now=None):
    m = {"mutation_id": str(uuid.uuid4()), "entity": "finding", "id": entity_id, "op": op,
         "base_version": base, "client_time": now}
    if data is not None:
        m["data"] = data
    return m


def device_pushes(sup: dict, p: dict) -> list[tuple[str, list[dict]]]:
    """(device, mutations) in the order the devices reach the network: phone creates, phone edits and
    deletes, then the tablet's edits made against version 1."""
    now = datetime.now(UTC).isoformat()
    creates = [mutation(fid, "upsert", 0, {"visit_id": sup["visit_id"], "title": f"问题 {n}", "severity": "medium",
                                          "area": "process", "description": "地面湿滑，未设置警示标识",
                                          "captured_at": now}, now)
               for n, fid in enumerate(p["ids"])]
    phone = [mutation(fid, "delete", 1, None, now) if fid in p["deleted"]
             else mutation(fid, "upsert", 1, {"severity": "high"}, now) for fid in p["ids"]]
    tablet = [mutation(fid, "upsert", 1, {"severity": "low"} if fid in p["same_field"] else {"impact": "全店顾客"}, now)
              for fid in p["tablet"]]
    return [("phone", creates), ("phone", phone), ("tablet", tablet)]


def run_pushes(base: str, sups: list[dict], plans: list[dict], parallel: int):
    latencies = []
    lock = threading.Lock()
    statuses = {}

    def run_supervisor(pair):
        sup, p = pair
        devices = {"phone": str(uuid.uuid4()), "tablet": str(uuid.uuid4())}
        for device, muts in device_pushes(sup, p):
            for i in range(0, len(muts), BATCH):
                body = json.dumps({"device_id": devices[device], "mutations": muts[i:i + BATCH]}).encode()
                req = urllib.request.Request(base + "/api/v1/sync/push", data=body, method="POST", headers={
                    "Content-Type": "application/json", "Authorization": f"Bearer {sup['token']}"})
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
        list(pool.map(run_supervisor, zip(sups, plans, strict=True)))
    return time.perf_counter() - t0, latencies, statuses


_client: dict = {}  # in each baseline client process: its engine, the mode, the time written


def _start_client(db_url: str, records_kept: bool, now: datetime) -> None:
    _client.update(engine=create_engine(db_url, pool_size=1), records_kept=records_kept, now=now)


def _keep(conn, params, stored_rows) -> None:
    """The record-keeping rows of one transaction's changes (`records_kept`)."""
    from sync.sql import insert_rows
    from webapp.sync_store.models import AppliedMutation, Change, Revision

    if not _client["records_kept"]:
        return
    now = _client["now"]
    ids = [p["fid"] for p in params] if "fid" in params[0] else [p["id"] for p in params]
    revisions, feed, log = [], [], []
    for fid in ids:
        row = stored_rows[fid]
        row["version"] = row.get("version", 0) + 1
        data = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
        revisions.append({"entity": "finding", "record_id": fid, "version": row["version"], "kind": "accepted",
                          "data": data, "changed": {"severity": data.get("severity")}, "user_id": row["supervisor_id"],
                          "device_id": None, "mutation_id": str(uuid.uuid4()), "client_time": now,
                          "server_time": now, "actor": "device"})
        feed.append({"entity": "finding", "record_id": fid, "version": row["version"], "deleted": False,
                     "department_id": row["department_id"], "supervisor_id": row["supervisor_id"],
                     "changed_at": now})
        log.append({"mutation_id": revisions[-1]["mutation_id"], "device_id": None, "user_id": row["supervisor_id"],
                    "entity": "finding", "record_id": fid, "applied_at": now,
                    "result": {"status": "applied", "version": row["version"], "conflicts": [], "errors": {}}})
    # Written as the push writes them (on PostgreSQL by COPY, sync.sql.insert_rows): the cheapest way known.
    insert_rows(conn, Revision.__table__, revisions)
    conn.execute(Change.__table__.delete().where(Change.__table__.c.record_id.in_(ids)))
    insert_rows(conn, Change.__table__, feed)
    insert_rows(conn, AppliedMutation.__table__, log)


def _baseline_supervisor(pair) -> int:
    """One supervisor's rows and changes, bare, in a client process (see `baseline`)."""
    from webapp.findings.models import Finding

    sup, p = pair
    engine, now, table = _client["engine"], _client["now"], Finding.__table__
    rows = [{"id": str(uuid.uuid4()), "visit_id": sup["visit_id"], "site_id": sup["site_id"],
             "supervisor_id": sup["user_id"], "department_id": sup["dept_id"], "title": f"问题 {n}",
             "severity": "medium", "area": "process", "description": "地面湿滑，未设置警示标识",
             "photos": [], "status": "open", "captured_at": now, "created_at": now, "updated_at": now,
             "version": 1, "has_conflict": False} for n in range(len(p["ids"]))]
    alias = {old: row["id"] for old, row in zip(p["ids"], rows, strict=True)}
    severity = text("UPDATE findings SET severity = :v, version = version + 1, updated_at = :t WHERE id = :fid")
    impact = text("UPDATE findings SET impact = :v, version = version + 1, updated_at = :t WHERE id = :fid")
    delete = text("UPDATE findings SET deleted_at = :t, version = version + 1 WHERE id = :fid")
    phone_edit = [{"fid": alias[f], "v": "high", "t": now} for f in p["ids"] if f not in p["deleted"]]
    phone_del = [{"fid": alias[f], "t": now} for f in p["deleted"]]
    tab_same = [{"fid": alias[f], "v": "low", "t": now} for f in p["tablet"] if f in p["same_field"]]
    tab_other = [{"fid": alias[f], "v": "全店顾客", "t": now} for f in p["tablet"] if f not in p["same_field"]]
    stored_rows = {row["id"]: {**row, "version": 0} for row in rows}
    for i in range(0, len(rows), BATCH):
        with engine.begin() as conn:
            conn.execute(table.insert(), rows[i:i + BATCH])
            _keep(conn, rows[i:i + BATCH], stored_rows)
    for stmt, params in ((severity, phone_edit), (delete, phone_del), (severity, tab_same), (impact, tab_other)):
        for i in range(0, len(params), BATCH):
            with engine.begin() as conn:
                conn.execute(stmt, params[i:i + BATCH])
                _keep(conn, params[i:i + BATCH], stored_rows)
    return len(rows) + len(phone_edit) + len(phone_del) + len(tab_same) + len(tab_other)


def _ready(_n) -> bool:
    with _client["engine"].connect():
        return True


def baseline(db_url: str, sups: list[dict], plans: list[dict], parallel: int, *,
             records_kept: bool = False) -> tuple[float, int]:
    """The same rows and the same changes by bare executemany INSERT/UPDATE/DELETE statements, one
    transaction per 100, from `parallel` concurrent clients — processes, one connection each, as the
    push has two server processes (threads of one process would share one core for their Python):
    what a competent engineer writes when nothing is merged, checked or recorded. Returns
    (changes/s, changes).

    `records_kept`: a second reference, not the goal's — each transaction also writes, bare, the rows
    sync must keep per change (a revision with the record's data, its change-feed row replaced, the
    mutation's log entry): the write volume the push cannot avoid, without HTTP, merging or checks."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(parallel, mp_context=context, initializer=_start_client,
                             initargs=(db_url, records_kept, datetime.now(UTC))) as pool:
        list(pool.map(_ready, range(parallel * 4)))  # every client started and connected
        t0 = time.perf_counter()
        done = sum(pool.map(_baseline_supervisor, zip(sups, plans, strict=True)))
        elapsed = time.perf_counter() - t0
    return done / elapsed, done


def bench(kind: str, findings: int, parallel: int, seed: int):
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-sync-{kind}-"))
    admin = None
    name = f"bench_sync_{os.getpid()}"
    if kind == "sqlite":
        db_url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        db_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        sups = prepare(db_url, SUPERVISORS)
        rng = random.Random(seed)
        per_sup = findings // SUPERVISORS
        plans = [plan(s, per_sup, rng) for s in sups]
        server = Server(db_url, tmp / "instance", workers=2).start()
        try:
            elapsed, latencies, statuses = run_pushes(server.base, sups, plans, parallel)
        finally:
            server.stop()
        counted = {s: statuses.get(s, 0) for s in COUNTED}
        total = sum(counted.values())
        other = {s: n for s, n in statuses.items() if s not in COUNTED}
        rate = total / elapsed
        base_rate, base_rows = baseline(db_url, sups, plans, parallel)
        kept_rate, _ = baseline(db_url, sups, plans, parallel, records_kept=True)
        q = statistics.quantiles(latencies, n=100)
        sent = sum(statuses.values())
        crossed = sum(len(p["tablet"]) for p in plans)
        goal = 4000 if kind == "postgresql" else 2000
        print(f"== {kind}: {sent} mutations from {2 * SUPERVISORS} devices ({SUPERVISORS} supervisors x phone + tablet), "
              f"{crossed} ({100 * crossed / sent:.0f} %) editing a record the other device changed; batches of {BATCH}, "
              f"{parallel} clients, gunicorn -w 2")
        print(f"   counted:    applied {counted['applied']}, merged {counted['merged']}, conflict {counted['conflict']}"
              f"   not counted: {other or 'none'}")
        print(f"   sync push:  {rate:8.0f} mutations/s   (elapsed {elapsed:.1f} s)")
        print(f"   per batch:  p50 {q[49] * 1000:6.0f} ms   p95 {q[94] * 1000:6.0f} ms")
        print(f"   baseline:   {base_rate:8.0f} rows/s ({base_rows} bare statements' rows, {parallel} clients) "
              f"-> sync is {base_rate / rate:.1f}x the baseline")
        print(f"   reference:  {kept_rate:8.0f} changes/s with the rows sync keeps per change written bare too "
              f"(revision, feed row, mutation log) -> sync is {kept_rate / rate:.1f}x that")
        print(f"   goal (>= {goal}/s, <= 3x): {'met' if rate >= goal and base_rate / rate <= 3 else 'NOT met'}")
        sys.stdout.flush()
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        shutil.rmtree(tmp, ignore_errors=True)  # the SQLite file, the server's instance folder


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--parallel", type=int, default=4, help="clients pushing at the same moment")
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    for kind in kinds:
        bench(kind, args.findings, args.parallel, args.seed)


if __name__ == "__main__":
    main()
