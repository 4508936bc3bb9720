from tests.sync.conftest import new_id


def test_push_creates_a_finding_and_pull_returns_it(world, device):
    sup1 = device(world["users"]["sup1"])
    visit = world["visits"][0]
    fid = new_id()
    res = sup1.push_one("finding", fid, {"visit_id": visit.id, "title": "地面湿滑", "severity": "high",
                                        "captured_at": "2026-11-25T10:00:00+08:00"})
    assert res["status"] == "applied" and res["version"] == 1, res
    changes, cursor = sup1.pull_all()
    ours = [c for c in changes if c["id"] == fid]
    assert ours and ours[0]["data"]["title"] == "地面湿滑"
    assert ours[0]["data"]["site_id"] == visit.site_id
    assert ours[0]["data"]["captured_at"] == "2026-11-25T02:00:00+00:00"
    assert sup1.pull(cursor)["changes"] == []
