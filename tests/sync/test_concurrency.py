"""Concurrency: simultaneous pushes to one record serialize into one line of versions, a crash in
the middle of a push leaves nothing half-applied, and two app servers on one PostgreSQL keep
every invariant of the stateful test."""

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from sqlalchemy import func, select

from tests.sync.conftest import Device, new_id
from tests.sync.servers import HttpClient, Server
from webapp.extensions import db
from webapp.models import AppliedMutation, Conflict, Finding, Revision


def _is_pg():
    return db.engine.dialect.name == "postgresql"


@pytest.mark.slow
def test_simultaneous_conflicting_pushes_form_one_line(world, client, create_user):
    threads = 12
    finding = world["findings"][0]
    fid = finding.id
    users = [world["users"]["manager"]] + [create_user(f"mgr{i}", "manager") for i in range(threads - 1)]
    devices = [Device(client, u) for u in users]
    photos = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(threads)]
    db.session.commit()
    start = threading.Barrier(threads)

    def push(i):
        d = devices[i]
        m = d.mutation("finding", fid, {"title": f"标题{i}", "photos": [photos[i]]}, base_version=1)
        start.wait()
        r = client.post("/api/v1/sync/push", json={"device_id": d.device_id, "mutations": [m]}, headers=d.headers)
        assert r.status_code == 200, r.get_data(as_text=True)
        return m, r.get_json()["results"][0]

    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(push, range(threads)))
    db.session.expire_all()
    statuses = sorted(r["status"] for _, r in outcomes)
    assert statuses.count("applied") == 1 and statuses.count("conflict") == threads - 1, statuses
    f = db.session.get(Finding, fid)
    [(winner, _)] = [(m, r) for m, r in outcomes if r["status"] == "applied"]
    assert f.title == winner["data"]["title"] and f.has_conflict
    assert sorted(f.photos) == sorted(photos)  # every accepted photo kept (set union)
    versions = db.session.scalars(select(Revision.version).where(
        Revision.record_id == fid, Revision.kind != "conflict").order_by(Revision.version)).all()
    assert versions == list(range(1, f.version + 1))  # one line, no version twice
    assert sorted(r["version"] for _, r in outcomes) == list(range(2, threads + 2))
    losing = {c.client for c in db.session.scalars(select(Conflict).where(Conflict.record_id == fid))}
    assert losing == {m["data"]["title"] for m, r in outcomes if r["status"] == "conflict"}


@pytest.mark.slow
def test_crash_in_the_middle_of_a_large_push(world, _schema, tmp_path):
    n = 1000  # the most one push may carry
    sup = world["users"]["sup1"]
    visit_id = world["visits"][0].id
    device = Device(None, sup)
    mutations = [device.mutation("finding", new_id(), {"visit_id": visit_id, "title": f"问题{i}", "severity": "low"})
                 for i in range(n)]
    ids = [m["mutation_id"] for m in mutations]
    db.session.commit()

    def count_applied():
        db.session.commit()
        count = db.session.scalar(select(func.count()).select_from(AppliedMutation).where(
            AppliedMutation.mutation_id.in_(ids)))
        db.session.commit()  # XXX: on SQLite an open transaction here would hold the server's write lock
        return count

    server = Server(_schema, tmp_path / "crash", clock=datetime.now(UTC)).start()
    try:
        http = HttpClient([server.base], timeout=300)
        result = {}

        def send():
            try:
                result["r"] = http.post("/api/v1/sync/push", json={"device_id": device.device_id,
                                                                  "mutations": mutations}, headers=device.headers)
            except OSError:
                pass  # the connection died with the server

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(0.5)  # not an assertion: lets the push get well under way before the crash
        server.kill()
        sender.join(60)
    except BaseException:
        server.kill()
        raise
    crashed_with = count_applied()
    assert crashed_with in (0, n), "half a push was applied"
    assert "r" not in result or result["r"].status_code == 200

    server = Server(_schema, tmp_path / "crash2", clock=datetime.now(UTC)).start()
    try:
        http = HttpClient([server.base], timeout=300)
        body = {"device_id": device.device_id, "mutations": mutations}
        r = http.post("/api/v1/sync/push", json=body, headers=device.headers)
        assert r.status_code == 200, r.get_data(as_text=True)
        first = r.get_json()["results"]
        again = http.post("/api/v1/sync/push", json=body, headers=device.headers).get_json()["results"]
    finally:
        server.stop()
    expected = "duplicate" if crashed_with == n else "applied"
    assert {r["status"] for r in first} == {expected}
    assert {r["status"] for r in again} == {"duplicate"}
    assert count_applied() == n
    created = db.session.scalar(select(func.count()).select_from(Finding).where(
        Finding.id.in_([m["id"] for m in mutations])))
    assert created == n
    assert db.session.scalar(select(func.max(Finding.version)).where(
        Finding.id.in_([m["id"] for m in mutations]))) == 1


@pytest.mark.slow
def test_two_app_servers_on_one_postgresql(app, _schema, tmp_path):
    if not _is_pg():
        pytest.skip("scale-out runs on PostgreSQL")
    from tests.sync.test_stateful import SyncMachine

    servers = [Server(_schema, tmp_path / f"s{i}", workers=2, clock=datetime.now(UTC)).start() for i in range(2)]
    try:
        SyncMachine.client = HttpClient([s.base for s in servers], seed=7)
        run_state_machine_as_test(SyncMachine, settings=settings(
            max_examples=6, stateful_step_count=30, deadline=None, database=None,
            suppress_health_check=list(HealthCheck)))
    finally:
        for s in servers:
            s.stop()
