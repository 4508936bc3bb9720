"""Check-in/out: the server's distance to the site and geofence, a reason outside it, read-only
server fields, scope, offline replay."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.evidence.conftest import SITE, new_id
from webapp.evidence.geo import distance_m, fence
from webapp.evidence.models import VisitCheckin
from webapp.extensions import db

INSIDE = (SITE[0] + 0.001, SITE[1])  # 111.2 m north
OUTSIDE = (SITE[0] + 0.003, SITE[1])  # 333.6 m north


def _checkin(lat_lng, kind="in", **extra):
    return {"kind": kind, "lat": lat_lng[0], "lng": lat_lng[1], "accuracy_m": 12.5,
            "device_time": datetime.now(UTC).isoformat(), **extra}


def test_distance_against_known_pairs():
    # Beijing (Tiananmen) – Shanghai (People's Square): about 1,067 km on the great circle.
    assert distance_m(39.9042, 116.4074, *SITE) == pytest.approx(1_067_000, rel=0.005)
    assert distance_m(*SITE, *INSIDE) == pytest.approx(111.2, abs=0.2)
    assert fence(*SITE, 200, *INSIDE) == (pytest.approx(111.2, abs=0.2), True)
    assert fence(*SITE, 200, *OUTSIDE)[1] is False
    assert fence(None, None, 200, *INSIDE) == (None, None)


def test_checkin_inside_the_fence(placed, clock_device):
    dev = clock_device(placed["users"]["sup1"])
    cid = new_id()
    res = dev.push_one("visit_checkin", cid, {"visit_id": placed["visits"][0].id, **_checkin(INSIDE)})
    assert res["status"] == "applied", res
    c = db.session.get(VisitCheckin, cid)
    assert c.in_fence is True and c.distance_m == pytest.approx(111.2, abs=0.2) and c.accuracy_m == 12.5


def test_outside_the_fence_needs_a_reason(placed, clock_device):
    dev = clock_device(placed["users"]["sup1"])
    vid = placed["visits"][0].id
    res = dev.push_one("visit_checkin", new_id(), {"visit_id": vid, **_checkin(OUTSIDE)})
    assert res["status"] == "rejected" and "reason" in res["errors"]
    cid = new_id()
    res = dev.push_one("visit_checkin", cid, {"visit_id": vid, **_checkin(OUTSIDE, reason="场所入口在施工，在街对面签到")})
    assert res["status"] == "applied", res
    c = db.session.get(VisitCheckin, cid)
    assert c.in_fence is False and c.distance_m == pytest.approx(333.6, abs=0.5)
    # clearing the reason later is refused too
    res = dev.push_one("visit_checkin", cid, {"reason": ""}, base_version=1)
    assert res["status"] == "rejected" and "reason" in res["errors"]


def test_server_fields_are_read_only(placed, clock_device):
    dev = clock_device(placed["users"]["sup1"])
    vid = placed["visits"][0].id
    res = dev.push_one("visit_checkin", new_id(), {"visit_id": vid, **_checkin(OUTSIDE), "in_fence": True,
                                                   "distance_m": 5})
    assert res["status"] == "rejected"
    assert set(res["errors"]) >= {"in_fence", "distance_m"}
    cid = new_id()
    assert dev.push_one("visit_checkin", cid, {"visit_id": vid, **_checkin(INSIDE)})["status"] == "applied"
    res = dev.push_one("visit_checkin", cid, {"distance_m": 1.0}, base_version=1)
    assert res["status"] == "rejected" and "distance_m" in res["errors"]
    # echoing the server's own value is harmless
    stored = db.session.get(VisitCheckin, cid)
    res = dev.push_one("visit_checkin", cid, {"in_fence": stored.in_fence, "accuracy_m": 8}, base_version=1)
    assert res["status"] == "applied", res


def test_site_without_coordinates_is_unknown(world, clock_device):
    dev = clock_device(world["users"]["sup1"])
    cid = new_id()
    assert dev.push_one("visit_checkin", cid, {"visit_id": world["visits"][0].id, **_checkin(INSIDE)})["status"] == "applied"
    c = db.session.get(VisitCheckin, cid)
    assert (c.distance_m, c.in_fence) == (None, None)


def test_another_supervisors_visit_is_rejected(placed, clock_device):
    dev = clock_device(placed["users"]["sup2"])
    res = dev.push_one("visit_checkin", new_id(), {"visit_id": placed["visits"][0].id, **_checkin(INSIDE)})
    assert res["status"] == "rejected" and "id" in res["errors"]
    assert db.session.scalar(select(VisitCheckin.id)) is None
    # and sup2 does not pull sup1's check-ins
    ok = clock_device(placed["users"]["sup1"])
    cid = new_id()
    ok.push_one("visit_checkin", cid, {"visit_id": placed["visits"][0].id, **_checkin(INSIDE)})
    changes, _ = dev.pull_all()
    assert cid not in {c["id"] for c in changes}
    mine, _ = ok.pull_all()
    [row] = [c for c in mine if c["id"] == cid]
    assert row["entity"] == "visit_checkin" and row["data"]["in_fence"] is True


def test_offline_replay_is_applied_once(placed, clock_device):
    """Queued offline (in and out, with device times of hours ago), sent twice after a lost answer."""
    dev = clock_device(placed["users"]["sup1"])
    vid = placed["visits"][0].id
    earlier = datetime.now(UTC) - timedelta(hours=3)
    batch = [dev.mutation("visit_checkin", new_id(), {"visit_id": vid, **_checkin(INSIDE, device_time=earlier.isoformat())}),
             dev.mutation("visit_checkin", new_id(), {"visit_id": vid, **_checkin(
                 INSIDE, kind="out", device_time=(earlier + timedelta(hours=2)).isoformat())})]
    first = dev.push(*batch)
    again = dev.push(*batch)
    assert [r["status"] for r in first] == ["applied", "applied"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    rows = db.session.scalars(select(VisitCheckin).order_by(VisitCheckin.device_time)).all()
    assert [(r.kind, r.device_time) for r in rows] == [("in", earlier), ("out", earlier + timedelta(hours=2))]


def test_visit_page_shows_checkins(placed, clock_device, auth, client):
    dev = clock_device(placed["users"]["sup1"])
    vid = placed["visits"][0].id
    dev.push_one("visit_checkin", new_id(), {"visit_id": vid, **_checkin(OUTSIDE, reason="入口施工")})
    auth.login("manager")
    html = client.get(f"/visits/{vid}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Check-in and evidence" in html and "334 m" in html and "± 12 m" in html
    assert "入口施工" in html and "outside" in html
