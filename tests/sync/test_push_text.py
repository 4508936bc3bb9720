"""Bad input to the push gets a clear 4xx, never a 500 (issue #21, items 2 and 3): control
characters, NUL and lone surrogates in text, far-out dates, JSON nested too deep."""

import json

import pytest

from tests.sync.conftest import new_id
from webapp.extensions import db
from webapp.findings.models import Finding


@pytest.fixture
def sup1(world, device):
    return device(world["users"]["sup1"])


def _new_finding(world, **data):
    return {"visit_id": world["visits"][0].id, "title": "消防通道堵塞", "severity": "medium", **data}


@pytest.mark.parametrize("field", ["title", "description", "impact", "responsible_person"])
@pytest.mark.parametrize("char", ["\x0b", "\x00", "\ud800", "\x1b", "\x85"])
def test_control_characters_in_text_are_rejected_with_a_field_message(world, sup1, field, char):
    fid = new_id()
    res = sup1.push_one("finding", fid, _new_finding(world, **{field: f"前{char}后"}))
    assert res["status"] == "rejected" and set(res["errors"]) == {field}
    assert f"U+{ord(char):04X}" in res["errors"][field][0]
    assert db.session.get(Finding, fid) is None


def test_the_message_is_in_the_users_language(world, sup1):
    r = sup1.post("/api/v1/sync/push", headers={"Accept-Language": "zh-CN"}, json={
        "device_id": sup1.device_id, "mutations": [sup1.mutation("finding", new_id(), _new_finding(world, title="a\x0b"))]})
    assert "控制字符" in r.get_json()["results"][0]["errors"]["title"][0]


def test_one_bad_text_does_not_block_the_others(world, sup1):
    good, bad = new_id(), new_id()
    results = sup1.push(sup1.mutation("finding", bad, _new_finding(world, title="a\x00b")),
                        sup1.mutation("finding", good, _new_finding(world, description="第一行\n第二行\t完")))
    assert [r["status"] for r in results] == ["rejected", "applied"]
    assert db.session.get(Finding, good).description == "第一行\n第二行\t完"


def test_text_lists_are_checked_too(world, sup1):
    res = sup1.push_one("visit", world["visits"][0].id, {"preparation_done": ["ok", "bad\x07"]},
                        base_version=1)
    assert res["status"] == "rejected" and "preparation_done" in res["errors"]


@pytest.mark.parametrize("data", [
    {"captured_at": "0001-01-01T00:00+14:00"},
    {"captured_at": "9999-12-31T23:59-14:00"},
    {"captured_at": "1000-06-01T00:00+00:00"},
])
def test_far_out_dates_are_rejected_with_a_field_message(world, sup1, data):
    res = sup1.push_one("finding", new_id(), _new_finding(world, **data))
    assert res["status"] == "rejected" and set(res["errors"]) == set(data)


def test_far_out_visit_dates_and_client_time(world, sup1):
    res = sup1.push_one("visit", world["visits"][0].id, {"scheduled_for": "0001-01-01", "started_at":
                                                         "0001-01-01T00:00+14:00"}, base_version=1)
    assert res["status"] == "rejected" and set(res["errors"]) == {"scheduled_for", "started_at"}
    m = sup1.mutation("finding", new_id(), _new_finding(world))
    m["client_time"] = "0001-01-01T00:00:00+14:00"
    assert sup1.push(m)[0]["status"] == "rejected"


@pytest.mark.parametrize("depth", [100, 100_000])  # past our limit; past Python's recursion limit
def test_json_nested_too_deep_is_a_400(world, sup1, depth):
    body = f'{{"device_id": "{sup1.device_id}", "mutations": [{"[" * depth}1{"]" * depth}]}}'
    r = sup1.post("/api/v1/sync/push", data=body, content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_json"


def test_lone_surrogate_in_the_envelope_is_a_4xx(world, sup1):
    body = json.dumps({"device_id": sup1.device_id + "\ud800", "mutations": []})
    r = sup1.post("/api/v1/sync/push", data=body, content_type="application/json")
    assert r.status_code == 400 and "device_id" in r.get_json()["error"]["fields"]
