"""Push applies a batch in segments (one flush each) and falls back to one savepoint per mutation
when a segment's flush fails. Whatever the batch, the outcome must equal the one-by-one path's:
same results in the same order, same records, history, conflicts, change feed and applied ids."""

import hashlib
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select

from sync.engine import Rejection
from tests.sync.conftest import new_id
from webapp.extensions import db
from webapp.models import AppliedMutation, Change, ChecklistAnswer, Conflict, Finding, Revision
from webapp.sync_store.entities import ENTITIES, serialize
from webapp.sync_store.operations import parse_mutation
from webapp.sync_store.policy import make_engine

NOW = datetime(2026, 5, 1, 9, 30, tzinfo=UTC).isoformat()


def _m(entity, record_id, data=None, base_version=0, op="upsert", mutation_id=None):
    return {"mutation_id": mutation_id or new_id(), "entity": entity, "id": record_id, "op": op,
            "base_version": base_version, "data": data or {}, "client_time": NOW}


def _snapshot(results) -> dict:
    """Everything a push leaves behind, with database-assigned ids replaced by their rank."""
    conflict_ids = {cid: n for n, cid in enumerate(db.session.scalars(select(Conflict.id).order_by(Conflict.id)))}

    def norm(result):
        result = dict(result)
        result["conflicts"] = [{**c, "id": conflict_ids.get(c.get("id"), c.get("id"))}
                               for c in result.get("conflicts") or []]
        return result

    records = {}
    for spec in ENTITIES.values():
        if spec.pushable:
            for obj in db.session.scalars(select(spec.model)):
                records[(spec.name, obj.id)] = (obj.version, bool(obj.has_conflict), obj.deleted_at is not None,
                                                serialize(spec, obj))
    # History is read per record (by version, then id); across records the interleaving may differ
    # (a batch writes its conflict revisions after the segment's accepted ones).
    revisions = sorted(((r.entity, r.record_id, r.version, r.kind, r.data, r.changed, r.user_id, r.device_id,
                         r.mutation_id, r.client_time)
                        for r in db.session.scalars(select(Revision).order_by(Revision.id))),
                       key=lambda r: (r[0], r[1]))
    conflicts = [(c.entity, c.record_id, c.field, c.base, c.server, c.client, c.mutation_id, c.status)
                 for c in db.session.scalars(select(Conflict).order_by(Conflict.id))]
    feed = [(c.entity, c.record_id, c.version, c.deleted, c.department_id, c.supervisor_id)
            for c in db.session.scalars(select(Change).order_by(Change.seq))]
    applied = sorted((a.mutation_id, a.entity, a.record_id, str(norm(a.result)))
                     for a in db.session.scalars(select(AppliedMutation)))
    return {"results": [norm(r) for r in results], "records": records, "revisions": revisions,
            "conflicts": conflicts, "feed": feed, "applied": applied}


def _same(batched: dict, one_by_one: dict) -> None:
    for key in one_by_one:
        a, b = batched[key], one_by_one[key]
        if isinstance(a, dict):
            a, b = sorted(a.items()), sorted(b.items())
        assert len(a) == len(b), (key, a, b)
        for x, y in zip(a, b, strict=True):
            if x != y:
                parts = [(n, p, q) for n, (p, q) in enumerate(zip(x, y, strict=False)) if p != q] \
                    if isinstance(x, tuple) else [(x, y)]
                pytest.fail(f"{key} differ (batched, one by one): {parts} in {x}")


def _push_both_ways(user, device_id, raw: list) -> tuple[dict, dict]:
    """Push the same batch batched and one by one, each from the same starting state."""
    db.session.commit()
    outcomes = []
    for batched in (True, False):
        outer = db.session.begin_nested()
        try:
            results = make_engine().push(user, device_id, [parse_mutation(r) for r in raw], batched=batched)
            db.session.flush()
            outcomes.append(_snapshot(results))
        finally:
            outer.rollback()
            db.session.expire_all()
    return outcomes[0], outcomes[1]


@pytest.fixture
def items(world):
    visit = world["visits"][0]
    return [i.id for i in sorted(visit.template.items, key=lambda i: i.position)]


def test_a_failing_flush_redoes_the_segment_one_by_one(world, items):
    """A second answer to one checklist item only fails at the flush: the segment falls back,
    the clash alone is rejected, everything around it applies, nothing of it is stored."""
    sup = world["users"]["sup1"]
    v1 = world["visits"][0].id
    f1 = world["findings"][0].id
    a1, a2, new_f, later = new_id(), new_id(), new_id(), new_id()
    raw = [
        _m("finding", new_f, {"visit_id": v1, "title": "新问题", "severity": "high", "captured_at": NOW}),
        _m("checklist_answer", a1, {"visit_id": v1, "item_id": items[0], "result": "pass"}),
        _m("finding", f1, {"title": "改过的标题"}, base_version=1),
        _m("checklist_answer", a2, {"visit_id": v1, "item_id": items[0], "result": "fail"}),  # clashes with a1
        _m("checklist_answer", later, {"visit_id": v1, "item_id": items[1], "result": "na"}),
        _m("finding", new_f, {"severity": "low"}, base_version=1),  # the same record: next segment
    ]
    batched, one_by_one = _push_both_ways(sup, new_id(), raw)
    _same(batched, one_by_one)
    statuses = [r["status"] for r in batched["results"]]
    assert statuses == ["applied", "applied", "applied", "rejected", "applied", "applied"]
    assert "id" in batched["results"][3]["errors"]
    assert ("checklist_answer", a2) not in batched["records"]
    assert all(rev[1] != a2 for rev in batched["revisions"]) and all(c[1] != a2 for c in batched["feed"])
    assert raw[3]["mutation_id"] not in {a[0] for a in batched["applied"]}
    assert batched["records"][("finding", new_f)][0] == 2

    # And for real, through the API: the same statuses, committed.
    results = make_engine().push(sup, new_id(), [parse_mutation(r) for r in raw])
    db.session.commit()
    assert [r["status"] for r in results] == statuses
    assert db.session.get(ChecklistAnswer, a2) is None and db.session.get(ChecklistAnswer, a1).result == "pass"
    assert db.session.get(Finding, f1).title == "改过的标题"


def test_rejections_in_a_segment_touch_nothing(world):
    """A mutation rejected halfway through its fields (an illegal status after a legal title)
    leaves its record as it was, inside a segment that otherwise applies."""
    sup = world["users"]["sup1"]
    f1 = world["findings"][0].id
    other = new_id()
    raw = [
        _m("finding", other, {"visit_id": world["visits"][0].id, "title": "另一个", "captured_at": NOW}),
        _m("finding", f1, {"title": "不该留下", "status": "pending_acceptance"}, base_version=1),
        _m("finding", f1, {"title": "被挡住"}, base_version=1),
        _m("finding", world["findings"][1].id, {"title": "别人的"}, base_version=1),  # out of scope
    ]
    batched, one_by_one = _push_both_ways(sup, new_id(), raw)
    _same(batched, one_by_one)
    assert [r["status"] for r in batched["results"]] == ["applied", "rejected", "blocked", "rejected"]
    assert batched["records"][("finding", f1)][3]["title"] == world["findings"][0].title


HASHES = [hashlib.sha256(bytes([n])).hexdigest() for n in range(3)]


@st.composite
def batches(draw, visit_id, other_visit_id, finding_ids, item_ids):
    """Random batches over a few records: creates, edits from stale or future bases, illegal
    moves, deletes, clashing answers, duplicates, bad data, bad envelopes, records out of scope."""
    new_findings = [str(uuid.UUID(int=n + 1)) for n in range(3)]
    answers = [str(uuid.UUID(int=n + 100)) for n in range(3)]
    mutation_ids = [str(uuid.UUID(int=n + 1000)) for n in range(12)]
    raw = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["finding", "finding", "finding", "answer", "delete", "envelope", "site"]))
        mid = draw(st.sampled_from(mutation_ids))
        if kind == "envelope":
            raw.append({"mutation_id": mid, "entity": "finding", "id": "not-a-uuid", "base_version": 0})
        elif kind == "site":
            raw.append(_m("site", draw(st.sampled_from(new_findings)), {"name": "x"}, mutation_id=mid))
        elif kind == "answer":
            data = {"visit_id": visit_id, "item_id": draw(st.sampled_from(item_ids)),
                    "result": draw(st.sampled_from(["pass", "fail", "na", "bogus"]))}
            raw.append(_m("checklist_answer", draw(st.sampled_from(answers)), data,
                          base_version=draw(st.sampled_from([0, 1])), mutation_id=mid))
        else:
            record = draw(st.sampled_from(new_findings + list(finding_ids)))
            base = draw(st.sampled_from([0, 1, 2, 3, 9]))
            if kind == "delete":
                raw.append(_m("finding", record, base_version=base, op="delete", mutation_id=mid))
                continue
            data = draw(st.fixed_dictionaries({}, optional={
                "visit_id": st.sampled_from([visit_id, visit_id, other_visit_id]),
                "title": st.sampled_from(["甲", "乙", "丙"]),
                "severity": st.sampled_from(["low", "high", "catastrophic"]),
                "status": st.sampled_from(["open", "rectifying", "pending_acceptance", "closed"]),
                "photos": st.lists(st.sampled_from(HASHES), max_size=2),
            }))
            data["captured_at"] = NOW  # else a create defaults it to the moment of the push
            raw.append(_m("finding", record, data, base_version=base, mutation_id=mid))
    return raw


@pytest.mark.slow
def test_batched_push_equals_one_by_one(world, items, device):
    """Property: for any batch, the batched engine and the one-by-one engine leave the same."""
    sup, manager = world["users"]["sup1"], world["users"]["manager"]
    v1, v2 = world["visits"][0].id, world["visits"][1].id
    f1, f2 = world["findings"][0].id, world["findings"][1].id
    # Some history first: a manager's edits (so stale bases merge or conflict) and an answer.
    man = device(manager)
    assert man.push(_m("finding", f1, {"title": "经理改的", "photos": [HASHES[0]]}, base_version=1),
                    _m("checklist_answer", new_id(), {"visit_id": v1, "item_id": items[1], "result": "pass"})
                    )[0]["status"] == "applied"
    device_id = new_id()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])
    @given(raw=batches(v1, v2, [f1, f2], items), as_manager=st.booleans())
    def check(raw, as_manager):
        note(f"{raw}")
        batched, one_by_one = _push_both_ways(manager if as_manager else sup, device_id, raw)
        _same(batched, one_by_one)

    check()


def test_envelope_rejections_pass_through(world):
    """A parse failure is an item of its own in the batch, answered in place."""
    parsed = parse_mutation({"mutation_id": new_id(), "entity": "finding", "id": "x", "base_version": 0})
    assert isinstance(parsed, tuple) and isinstance(parsed[2], Rejection)
    results = make_engine().push(world["users"]["sup1"], new_id(), [parsed])
    assert results[0]["status"] == "rejected"
