"""A push that meets a deadlock (or a create racing a copy of itself) is rolled back whole and runs
again from the start; any other database error is not retried."""

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from tests.sync.conftest import new_id
from webapp.api import sync as api_sync
from webapp.extensions import db
from webapp.models import AppliedMutation, Change, Finding


class _DriverError(Exception):
    def __init__(self, sqlstate):
        super().__init__(f"driver error {sqlstate}")
        self.sqlstate = sqlstate


def _failing_first(monkeypatch, sqlstate, failures=1):
    """push_mutations that does all its work, then fails `failures` times with `sqlstate`."""
    real = api_sync.push_mutations
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        results = real(*args, **kwargs)
        if len(calls) <= failures:
            raise DBAPIError("UPDATE findings …", {}, _DriverError(sqlstate))
        return results

    monkeypatch.setattr(api_sync, "push_mutations", flaky)
    return calls


def _create(device, visit):
    fid = new_id()
    return fid, device.mutation("finding", fid, {"visit_id": visit.id, "title": "消防通道堵塞", "severity": "high",
                                                 "captured_at": "2026-11-26T09:00:00+08:00"})


def test_a_deadlocked_push_runs_again_and_is_applied_once(world, device, monkeypatch):
    sup1 = device(world["users"]["sup1"])
    calls = _failing_first(monkeypatch, "40P01")
    fid, m = _create(sup1, world["visits"][0])
    [res] = sup1.push(m)
    assert len(calls) == 2
    assert res["status"] == "applied" and res["version"] == 1  # the first attempt left nothing behind
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AppliedMutation)
                             .where(AppliedMutation.mutation_id == m["mutation_id"])) == 1
    assert db.session.get(Finding, fid).version == 1
    assert db.session.scalar(select(func.count()).select_from(Change).where(Change.record_id == fid)) == 1


def test_a_push_that_keeps_failing_gives_up_with_a_json_error_and_keeps_nothing(world, device, monkeypatch):
    sup1 = device(world["users"]["sup1"])
    calls = _failing_first(monkeypatch, "40P01", failures=99)
    fid, m = _create(sup1, world["visits"][0])
    body = sup1.push(m, expect=500)
    assert len(calls) == api_sync.PUSH_ATTEMPTS and "error" in body
    db.session.expire_all()
    assert db.session.get(Finding, fid) is None


def test_other_database_errors_are_not_retried(world, device, monkeypatch):
    sup1 = device(world["users"]["sup1"])
    calls = _failing_first(monkeypatch, "22001")  # value too long: running again cannot help
    fid, m = _create(sup1, world["visits"][0])
    sup1.push(m, expect=500)
    assert len(calls) == 1
    db.session.expire_all()
    assert db.session.get(Finding, fid) is None


def test_two_pushes_creating_the_same_record_at_once_are_answered_as_one_after_the_other(
        world, device, app, _schema):
    """PostgreSQL: push B waits on push A's uncommitted insert of the same record, then meets a
    unique violation when A commits. It is answered as it would be sequentially (not `rejected`)."""
    import threading
    import time

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from webapp.sync_store.operations import parse_mutations
    from webapp.sync_store.policy import make_engine

    if db.engine.dialect.name != "postgresql":
        import pytest

        pytest.skip("SQLite serializes writers: no two pushes are ever in flight together")
    sup1 = world["users"]["sup1"]
    a, b = device(sup1), device(sup1)
    fid, m_a = _create(a, world["visits"][0])
    m_b = b.mutation("finding", fid, {k: v for k, v in m_a["data"].items()})
    db.session.commit()
    engine = create_engine(_schema)
    holder = Session(engine)
    [first] = make_engine(holder).push(holder.get(type(sup1), sup1.id), a.device_id, parse_mutations([m_a]))
    holder.flush()
    assert first["status"] == "applied"
    out = {}
    def push_b():
        with app.app_context():
            out["res"] = b.push(m_b)

    second = threading.Thread(target=push_b)
    second.start()
    time.sleep(1.0)  # push B is now waiting on A's row
    holder.commit()
    holder.close()
    engine.dispose()
    second.join(30)
    [res] = out["res"]
    assert res["status"] in ("applied", "merged"), res
    db.session.expire_all()
    # the same content: nothing new to store, as when B comes after A
    assert db.session.get(Finding, fid).version == res["version"] == 1
