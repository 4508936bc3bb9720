"""Hypothesis stateful test of the sync protocol against the real engine (through the HTTP API).

Several offline devices (two phones of one supervisor, a second supervisor, a manager's phone)
edit findings, add and remove photos, move the workflow, delete, go offline and online, push
partial batches, lose the server's response and retry, and replay old deliveries. A reference
model, fed only with what the server acknowledged, predicts the final state.

Invariants:
- every acknowledged change is in the final state or in a conflict record (nothing silently lost);
- a scalar field is never taken over a concurrent change by someone else (nothing silently overwritten);
- no mutation is applied twice; each record's versions form one line 1..n;
- after a final push and pull every device equals the server.
"""

import hashlib
import itertools
import uuid
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from tests.sync.conftest import Device
from webapp.extensions import db
from webapp.findings.models import FINDING_TRANSITIONS
from webapp.models import (
    AppliedMutation,
    ChecklistTemplate,
    Conflict,
    Department,
    Finding,
    Revision,
    Site,
    User,
    Visit,
)

SCALARS = {"title": ["甲", "乙", "丙"], "severity": ["low", "medium", "high", "critical"]}
ACKED = ("applied", "merged", "conflict")
_counter = itertools.count()


def _hash(device_no: int, i: int) -> str:
    return hashlib.sha256(f"{device_no}-{i}".encode()).hexdigest()


class Phone:
    """A device's own view: what it pulled, its unsent edits, its cursor."""

    def __init__(self, no, device: Device, visit_id):
        self.no = no
        self.api = device
        self.visit_id = visit_id
        self.online = True
        self.cursor = None
        self.server = {}  # id → {"version", "data", "deleted"} as last pulled
        self.outbox = []  # mutations not yet acknowledged
        self.sent = []  # acknowledged batches (for replays)
        self.photo_no = 0

    def view(self, rid):
        """The record as the device shows it: pulled state plus its own pending edits."""
        rec = self.server.get(rid)
        data = dict(rec["data"]) if rec else {}
        deleted = rec["deleted"] if rec else False
        known = rec is not None
        for m in self.outbox:
            if m["id"] != rid:
                continue
            known = True
            if m["op"] == "delete":
                deleted = True
            data.update(m["data"])
        return (data, deleted) if known else (None, None)

    def records(self):
        ids = set(self.server) | {m["id"] for m in self.outbox}
        return sorted(rid for rid in ids if self.view(rid)[0] is not None and not self.view(rid)[1])

    def base_of(self, rid):
        """The version the device's view of the record rests on. While an edit of it is still in the
        outbox the view is that edit laid over the version it was made on, so later edits keep
        that base (as the phone app does); a pull alone does not move it."""
        pending = [m for m in self.outbox if m["id"] == rid]
        if pending:
            return pending[0]["base_version"]
        rec = self.server.get(rid)
        return rec["version"] if rec else 0


class Reference:
    """The server's expected state, computed from acknowledged results only."""

    def __init__(self):
        self.records = {}  # id → {"data", "deleted"}
        self.writes = {}  # id → [(version, device_id, fields)]
        self.applied_ids = set()

    def others_wrote(self, rid, base, device_id, field=None):
        return any(v > base and d != device_id and (field is None or field in fields)
                   for v, d, fields in self.writes.get(rid, []))

    def take(self, m, result, device_id, set_base):
        rid = m["id"]
        if result["status"] not in ACKED:
            return
        assert m["mutation_id"] not in self.applied_ids, "a mutation was acknowledged twice"
        self.applied_ids.add(m["mutation_id"])
        conflicted = {c["field"] for c in result["conflicts"]}
        rec = self.records.get(rid)
        if rec is None:
            assert m["base_version"] == 0 and m["op"] == "upsert"
            self.records[rid] = {"data": {"photos": [], **m["data"]}, "deleted": False}
            self.writes[rid] = [(result["version"], device_id, set(m["data"]) | {"deleted"})]
            return
        base = m["base_version"]
        written = set()
        if m["op"] == "delete":
            should_conflict = self.others_wrote(rid, base, device_id) and not rec["deleted"]
            assert ("deleted" in conflicted) == should_conflict, (m, result, self.writes[rid])
            if not conflicted and not rec["deleted"]:
                rec["deleted"] = True
                written.add("deleted")
        else:
            assert ("deleted" in conflicted) == rec["deleted"], (m, result)
            for name, value in m["data"].items():
                server = rec["data"].get(name)
                if name == "photos":
                    base_set = set(set_base)
                    merged = (set(server) | (set(value) - base_set)) - (base_set - set(value))
                    if merged != set(server):
                        written.add(name)
                    rec["data"][name] = sorted(merged)
                    continue
                concurrent = self.others_wrote(rid, base, device_id, name)
                if name in conflicted:
                    assert concurrent and value != server, ("needless conflict", m, result)
                    continue
                # no silent overwrite: a value someone else changed since base is only "taken" if equal
                assert not concurrent or value == server or name == "status", ("silent overwrite", m, result)
                if value != server:
                    written.add(name)
                rec["data"][name] = value
        if written or conflicted:
            self.writes[rid].append((result["version"], device_id, written))

    def resolve(self, conflict, choice, value, version):
        rec = self.records[conflict["record_id"]]
        name = conflict["field"]
        chosen = {"server": None, "client": conflict["client"], "value": value}[choice]
        written = set()
        if choice != "server":
            if name == "deleted":
                written = {name} if rec["deleted"] != chosen else set()
                rec["deleted"] = chosen
            else:
                written = {name} if rec["data"].get(name) != chosen else set()
                rec["data"][name] = chosen
        self.writes[conflict["record_id"]].append((version, None, written))


class SyncMachine(RuleBasedStateMachine):
    client = None

    def __init__(self):
        super().__init__()
        n = next(_counter)
        tag = uuid.uuid4().hex[:8]
        dept = Department(code=f"D{tag}", name="部门")
        db.session.add(dept)
        db.session.flush()
        site = Site(code=f"S{tag}", name="场所", department_id=dept.id)
        tpl = ChecklistTemplate(code=f"T{tag}", name="模板")
        sup_a = User(username=f"a{tag}", display_name="甲", role="supervisor", password_hash="x")
        sup_b = User(username=f"b{tag}", display_name="乙", role="supervisor", password_hash="x")
        self.manager = User(username=f"m{tag}", display_name="经理", role="manager", password_hash="x")
        db.session.add_all([site, tpl, sup_a, sup_b, self.manager])
        db.session.flush()
        visits = []
        for sup in (sup_a, sup_b):
            v = Visit(site_id=site.id, department_id=dept.id, template_id=tpl.id, supervisor_id=sup.id,
                      status="in_progress", scheduled_for=date.today())
            db.session.add(v)
            visits.append(v)
        db.session.commit()
        users = [sup_a, sup_a, sup_b, self.manager]  # two phones for supervisor A
        visit_of = [visits[0], visits[0], visits[1], visits[0]]
        self.visit_ids = {v.id for v in visits}
        self.phones = [Phone(i, Device(self.client, u), visit_of[i].id) for i, u in enumerate(users)]
        self.manager_api = self.phones[3].api
        self.ref = Reference()
        self.run = n

    # -- helpers --

    def _queue(self, phone, rid, data=None, op="upsert"):
        m = phone.api.mutation("finding", rid, data or {}, base_version=phone.base_of(rid), op=op)
        m["_set_base"] = phone.view(rid)[0].get("photos", []) if phone.view(rid)[0] else []
        phone.outbox.append(m)

    def _post(self, phone, batch):
        wire = [{k: v for k, v in m.items() if not k.startswith("_")} for m in batch]
        return phone.api.push(*wire)

    def _deliver(self, phone, batch):
        results = self._post(phone, batch)
        assert [r["mutation_id"] for r in results] == [m["mutation_id"] for m in batch]
        for m, r in zip(batch, results, strict=True):
            assert r["status"] != "rejected" or r["errors"], r
            if r["status"] == "duplicate":
                assert m["mutation_id"] in self.ref.applied_ids and r["first_status"] in ACKED
                continue
            self.ref.take(m, r, phone.api.device_id, m["_set_base"])
        return results

    def _pick(self, phone, k):
        recs = phone.records()
        return recs[k % len(recs)] if recs else None

    # -- rules --

    @initialize()
    def shared_records(self):
        """A few findings every device already has, so offline edits meet each other."""
        for p in (0, 0, 2):
            self.create_finding(p, "甲")
        for p in (0, 2, 1, 3):
            self.sync(p, 10, False)

    @rule(p=st.integers(0, 3), title=st.sampled_from(SCALARS["title"]))
    def create_finding(self, p, title):
        phone = self.phones[p]
        self._queue(phone, str(uuid.uuid4()), {"visit_id": phone.visit_id, "title": title, "severity": "medium",
                                               "captured_at": datetime.now(UTC).isoformat()})

    @rule(p=st.integers(0, 3), k=st.integers(0, 50), field=st.sampled_from(sorted(SCALARS)), v=st.integers(0, 3))
    def edit_field(self, p, k, field, v):
        phone = self.phones[p]
        rid = self._pick(phone, k)
        if rid is not None:
            self._queue(phone, rid, {field: SCALARS[field][v % len(SCALARS[field])]})

    @rule(p=st.integers(0, 3), k=st.integers(0, 50), remove=st.booleans())
    def change_photos(self, p, k, remove):
        phone = self.phones[p]
        rid = self._pick(phone, k)
        if rid is None:
            return
        photos = set(phone.view(rid)[0].get("photos", []))
        if remove and photos:
            photos.discard(sorted(photos)[k % len(photos)])
        else:
            phone.photo_no += 1
            photos.add(_hash(phone.no, phone.photo_no))
        self._queue(phone, rid, {"photos": sorted(photos)})

    @rule(p=st.integers(0, 3), k=st.integers(0, 50), t=st.integers(0, 3))
    def move_status(self, p, k, t):
        phone = self.phones[p]
        rid = self._pick(phone, k)
        if rid is None:
            return
        status = phone.view(rid)[0].get("status") or "open"
        legal = FINDING_TRANSITIONS[status]
        if not legal:
            return
        self._queue(phone, rid, {"status": legal[t % len(legal)]})

    @rule(p=st.integers(0, 3), k=st.integers(0, 50))
    def delete(self, p, k):
        phone = self.phones[p]
        rid = self._pick(phone, k)
        if rid is not None:
            self._queue(phone, rid, op="delete")

    @rule(p=st.integers(0, 3))
    def toggle_online(self, p):
        self.phones[p].online = not self.phones[p].online

    @rule(p=st.integers(0, 3), n=st.integers(1, 6), lose_response=st.booleans())
    def sync(self, p, n, lose_response):
        phone = self.phones[p]
        if not phone.online:
            return
        batch = phone.outbox[:n]
        if batch:
            results = self._deliver(phone, batch)
            if lose_response:
                return  # the server applied it; the device never heard back and will retry
            phone.outbox = phone.outbox[len(batch):]
            phone.sent.append(batch)
            for r in results:
                assert r["status"] in (*ACKED, "duplicate", "rejected", "blocked"), r
        self._pull(phone)

    @rule(p=st.integers(0, 3), k=st.integers(0, 50))
    def replay_old_delivery(self, p, k):
        """A delayed copy of an old request arrives again (reordered and duplicated delivery)."""
        phone = self.phones[p]
        if phone.sent:
            batch = list(reversed(phone.sent[k % len(phone.sent)]))
            results = self._post(phone, batch)
            applied = {m["mutation_id"] for m in batch} & self.ref.applied_ids
            for m, r in zip(batch, results, strict=True):
                if r["mutation_id"] in applied:
                    assert r["status"] == "duplicate", r
                else:
                    # Refused or blocked the first time (nothing was recorded), so in another order
                    # it may apply now: what the server acknowledges, the reference takes too.
                    self.ref.take(m, r, phone.api.device_id, m["_set_base"])

    @rule(k=st.integers(0, 50), choice=st.sampled_from(["server", "client", "value"]), v=st.integers(0, 3))
    def manager_resolves(self, k, choice, v):
        body = self.manager_api.get("/api/v1/conflicts?limit=500").get_json()
        mine = [c for c in body["conflicts"] if c["record_id"] in self.ref.records]
        if not mine:
            return
        c = mine[k % len(mine)]
        if c["field"] == "deleted":
            value = bool(v % 2)
        elif c["field"] == "status":
            value = sorted(FINDING_TRANSITIONS)[v]
        else:
            value = SCALARS[c["field"]][v % len(SCALARS[c["field"]])]
        r = self.manager_api.post(f"/api/v1/conflicts/{c['id']}/resolve", json={"choice": choice, "value": value})
        assert r.status_code == 200, r.get_json()
        self.ref.resolve(c, choice, value, r.get_json()["record"]["version"])

    def _pull(self, phone):
        changes, phone.cursor = phone.api.pull_all(phone.cursor)
        for ch in changes:
            if ch["entity"] == "finding" and ch["data"]["visit_id"] in self.visit_ids:
                phone.server[ch["id"]] = {"version": ch["version"], "deleted": ch["deleted"],
                                          "data": {k: ch["data"][k] for k in ("title", "severity", "photos",
                                                                              "status")}}

    # -- invariants --

    @invariant()
    def server_matches_reference(self):
        db.session.commit()
        ids = list(self.ref.records)
        if not ids:
            return
        rows = {f.id: f for f in db.session.scalars(select(Finding).where(Finding.id.in_(ids)))}
        for rid, rec in self.ref.records.items():
            f = rows[rid]
            for name in ("title", "severity", "status"):
                if name in rec["data"]:
                    assert getattr(f, name) == rec["data"][name], (name, rid)
            assert sorted(f.photos or []) == rec["data"]["photos"], rid
            assert (f.deleted_at is not None) == rec["deleted"], rid
            open_conflicts = db.session.scalar(select(func.count()).select_from(Conflict).where(
                Conflict.record_id == rid, Conflict.status == "open"))
            assert f.has_conflict == (open_conflicts > 0)
        # no mutation applied twice, versions in one line
        assert db.session.scalar(select(func.count()).select_from(AppliedMutation).where(
            AppliedMutation.mutation_id.in_(sorted(self.ref.applied_ids)))) == len(self.ref.applied_ids)
        versions = db.session.execute(select(Revision.record_id, Revision.version).where(
            Revision.record_id.in_(ids), Revision.kind != "conflict")).all()
        per = {}
        for rid, v in versions:
            per.setdefault(rid, []).append(v)
        for rid, vs in per.items():
            assert sorted(vs) == list(range(1, rows[rid].version + 1)), (rid, sorted(vs))

    def teardown(self):
        # Everyone comes online and syncs until the outboxes are empty; then every device equals the server.
        for phone in self.phones:
            phone.online = True
            while phone.outbox:
                batch = phone.outbox[:10]
                self._deliver(phone, batch)
                phone.outbox = phone.outbox[len(batch):]
        for phone in self.phones:
            self._pull(phone)
        db.session.commit()
        for phone in self.phones:
            for rid, local in phone.server.items():
                f = db.session.get(Finding, rid)
                assert local["version"] == f.version and local["deleted"] == (f.deleted_at is not None)
                assert local["data"]["title"] == f.title and local["data"]["photos"] == sorted(f.photos or [])
                assert local["data"]["status"] == f.status and local["data"]["severity"] == f.severity
        # every device saw every record in its scope
        def live(phone):  # a device's first pull (a snapshot) brings no tombstones
            return {rid for rid, rec in phone.server.items() if not rec["deleted"]}

        assert live(self.phones[0]) == live(self.phones[1])
        assert live(self.phones[0]) | live(self.phones[2]) == live(self.phones[3])
        self.server_matches_reference()
        db.session.commit()


@pytest.mark.slow
def test_sync_protocol_stateful(app, client):
    SyncMachine.client = client
    examples = 25 if db.engine.dialect.name == "sqlite" else 15
    run_state_machine_as_test(SyncMachine, settings=settings(
        max_examples=examples, stateful_step_count=40, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))
