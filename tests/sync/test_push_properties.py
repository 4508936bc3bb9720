"""Property tests (Hypothesis): arbitrary Unicode in every text field of every pushable entity —
control characters, lone surrogates, NUL, RTL marks, 10,000-character strings — is applied or
rejected field by field, never a 500; and whatever was applied still exports (issue #21)."""

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import fields
from openpyxl import load_workbook

from tests.sync.conftest import Device, new_id
from webapp.extensions import db
from webapp.sync_store.schemas import DATA_SCHEMAS, Text

NASTY = st.sampled_from(["\x00", "\x0b", "\x1b", "\x7f", "\x85", "\ud800", "\udfff", "\ufffe", "\u200f", "\u202e",
                         "\u2028", "\t", "\r\n", "=", "@", "+", "'", '"', "<script>", "🧯", "消防"])
TEXT = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=40),  # any code point, surrogates too
    st.lists(NASTY, max_size=12).map("".join),
    st.builds(lambda ch, n: ch * n, NASTY, st.sampled_from([200, 10_000])),
)


def _text_fields(schema_cls) -> dict[str, bool]:
    """{field name: is a list of texts} of an entity's text fields."""
    out = {}
    for name, f in schema_cls._declared_fields.items():
        if isinstance(f, Text):
            out[name] = False
        elif isinstance(f, fields.List) and isinstance(f.inner, Text):
            out[name] = True
    return out


# A record of each entity to edit (created by the fixture), and the text fields to fuzz in it.
ENTITY_FIELDS = {entity: _text_fields(cls) for entity, cls in DATA_SCHEMAS.items() if _text_fields(cls)}


def test_every_entity_with_text_is_fuzzed():
    assert set(ENTITY_FIELDS) == {"visit", "meeting", "checklist_answer", "metric", "interview", "finding",
                                  "rectification_update", "visit_checkin"}
    assert {"title", "description", "impact", "responsible_person"} <= set(ENTITY_FIELDS["finding"])


@pytest.fixture
def records(world, client, auth):
    """One record of every entity, pushed by sup1 (the visit is the fixture's); sup1 is also signed
    in to the browser pages, for the export."""
    auth.login("sup1")
    sup = Device(client, world["users"]["sup1"])
    visit = world["visits"][0]
    visit_id, item_id = visit.id, visit.template.items[0].id
    finding_id = new_id()
    creates = {
        "meeting": {"visit_id": visit_id},
        "checklist_answer": {"visit_id": visit_id, "item_id": item_id},
        "metric": {"visit_id": visit_id, "kind": sorted(DATA_SCHEMAS["metric"]._declared_fields["kind"].validate.choices)[0],
                   "name": "客流"},
        "interview": {"visit_id": visit_id, "interviewee": "店长"},
        "finding": {"visit_id": visit_id, "title": "消防通道堵塞", "severity": "medium"},
        # A site without coordinates: the distance is unknown, so no reason is asked for.
        "visit_checkin": {"visit_id": visit_id, "kind": "in", "device_time": "2026-11-20T02:00:00+00:00"},
    }
    ids = {"visit": visit_id}
    for entity, data in creates.items():
        ids[entity] = finding_id if entity == "finding" else new_id()
        assert sup.push_one(entity, ids[entity], data)["status"] == "applied"
    ids["rectification_update"] = new_id()
    res = sup.push_one("rectification_update", ids["rectification_update"], {"finding_id": finding_id, "note": "x"})
    assert res["status"] in ("applied", "rejected"), res
    return sup, ids


@given(data=st.data())
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_arbitrary_text_in_every_field_is_applied_or_rejected_never_a_500(records, client, data):
    sup, ids = records
    mutations = []
    for entity, text_fields in ENTITY_FIELDS.items():
        name = data.draw(st.sampled_from(sorted(text_fields)), label=entity)
        value = data.draw(st.lists(TEXT, max_size=3) if text_fields[name] else TEXT, label=f"{entity}.{name}")
        # base_version 0 on an existing record: the server merges it field by field (or conflicts)
        mutations.append(sup.mutation(entity, ids[entity], {name: value}))
    db.session.commit()
    r = client.post("/api/v1/sync/push", json={"device_id": sup.device_id, "mutations": mutations},
                    headers=sup.headers)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    for result in r.get_json()["results"]:
        assert result["status"] in ("applied", "merged", "conflict", "rejected", "blocked"), result
    export = client.get("/findings/export.xlsx")
    assert export.status_code == 200
    load_workbook(io.BytesIO(export.data))
