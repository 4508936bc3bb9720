"""parse_mutation's shortcut for envelopes already in canonical form gives exactly what the
MutationArgs schema loads, and leaves everything else (and every error's wording) to the schema."""

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from sync.engine import Mutation, Rejection
from webapp.sync_store.operations import _plain_mutation, parse_mutation
from webapp.sync_store.schemas import MutationArgs

IDS = st.one_of(st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()), st.uuids().map(lambda u: u.hex),
                st.text(max_size=5), st.integers(), st.none(), st.lists(st.integers(), max_size=1))
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 2**31 + 1), st.floats(allow_nan=False),
                   st.text(max_size=8), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3),
                                                                                             st.integers(), max_size=2))
TIMES = st.one_of(st.none(), st.just("2026-11-20T10:00:00+08:00"), st.just("2026-11-20T10:00:00"),
                  st.just("0001-01-01T00:00:00+14:00"), st.just("9999-12-31T23:59:59-12:00"), st.text(max_size=6),
                  st.integers())
ENVELOPES = st.fixed_dictionaries({}, optional={
    "mutation_id": IDS, "id": IDS,
    "entity": st.one_of(st.sampled_from(["finding", "visit", "template", "nope"]), VALUES),
    "op": st.one_of(st.sampled_from(["upsert", "delete", "UPSERT"]), VALUES),
    "base_version": st.one_of(st.integers(-2, 3), st.just(2**31 - 1), st.just(2**31), VALUES),
    "data": st.one_of(st.dictionaries(st.text(max_size=4), VALUES, max_size=3), VALUES),
    "client_time": TIMES, "later_key": VALUES})


def schema_load(raw):
    try:
        m = MutationArgs().load(raw)
    except ValidationError:
        return None
    return Mutation(mutation_id=m["mutation_id"], entity=m["entity"], id=m["id"], op=m["op"],
                    base_version=m["base_version"], data=m["data"], client_time=m["client_time"])


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=ENVELOPES)
def test_the_shortcut_equals_the_schema(app, raw):
    with app.test_request_context():
        plain = _plain_mutation(raw, MutationArgs())
        loaded = schema_load(raw)
        if plain is not None:
            assert plain == loaded
        parsed = parse_mutation(raw)
        if loaded is None:
            assert isinstance(parsed, tuple) and isinstance(parsed[2], Rejection)
        else:
            assert parsed == loaded


def test_a_canonical_envelope_takes_the_shortcut(app):
    raw = {"mutation_id": str(uuid.uuid4()), "entity": "finding", "id": str(uuid.uuid4()), "base_version": 0,
           "data": {"title": "问题"}, "client_time": "2026-11-20T10:00:00+08:00"}
    with app.test_request_context():
        plain = _plain_mutation(raw, MutationArgs())
        assert plain is not None and plain == schema_load(raw) and plain.op == "upsert"
        assert _plain_mutation({**raw, "id": raw["id"].upper()}, MutationArgs()) is None  # the schema canonicalizes
