"""The column encoding of a pull (docs/sync-protocol.md, "Compact encoding") decodes to exactly the
records of the JSON pages — page by page, for every role, on random companies (seeded), with sets,
times, JSON objects, tombstones, conflicts, the pull-only extras of a visit and scope-exit markers;
and the JSON pages are what the records' serializer says (one wire rule for both paths)."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from webapp.evidence.models import VisitCheckin
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.plans.models import Plan
from webapp.rectification.models import RectificationUpdate
from webapp.sync_store.entities import ENTITIES, serialize
from webapp.visits.models import ChecklistAnswer, Interview, Meeting, Metric, Visit


def decode(page: dict) -> list[dict]:
    """A column page as the JSON changes (the decoder a client writes: docs/sync-protocol.md)."""
    out = []
    for entity, block in page["entities"].items():
        fields = block["fields"]
        n = len(fields)
        for row in block["rows"]:
            data = dict(zip(fields, row[4:4 + n], strict=True))
            if len(row) > 4 + n:
                data.update(row[4 + n])
            out.append({"entity": entity, "id": row[0], "version": row[1], "deleted": row[2],
                        "has_conflict": row[3], "data": data})
    return out + page["removed"]


def key(change):
    return (change["entity"], change["id"], change.get("reason", ""))


def pages(dev, encoding, cursor=None, limit=7):
    while True:
        params = {"limit": limit, "encoding": encoding}
        if cursor is not None:
            params["cursor"] = cursor
        r = dev.get("/api/v1/sync/pull", query_string=params)
        assert r.status_code == 200, r.get_data(as_text=True)
        page = r.get_json()
        yield page
        cursor = page["cursor"]
        if not page["more"]:
            return


def assert_same(dev, cursor=None):
    """Both encodings from `cursor`: the same pages (cursor, more) holding the same changes."""
    json_pages = list(pages(dev, "json", cursor))
    column_pages = list(pages(dev, "columns", cursor))
    assert len(json_pages) == len(column_pages)
    for j, c in zip(json_pages, column_pages, strict=True):
        assert (j["cursor"], j["more"]) == (c["cursor"], c["more"]) and c["encoding"] == "columns"
        assert sorted(j["changes"], key=key) == sorted(decode(c), key=key)
    return json_pages[-1]["cursor"], [ch for p in json_pages for ch in p["changes"]]


def _time(rnd):
    return datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=rnd.randrange(60 * 24 * 40),
                                                         microseconds=rnd.choice((0, rnd.randrange(10**6))))


def _sha(rnd):
    return f"{rnd.getrandbits(256):064x}"


def random_company(rnd, world, create_visit):
    """Records of every pushable kind with random values (None, sets out of order, times with and
    without microseconds, JSON objects), some deleted, some in conflict, visits with a plan."""
    users = world["users"]
    plan = Plan(title=f"计划{rnd.randrange(100)}", period_type="monthly", period_start=date(2026, 11, 1),
                period_end=date(2026, 11, 30), status="published", author_id=users["manager"].id)
    db.session.add(plan)
    db.session.commit()
    template_items = None
    visits = []
    for _ in range(rnd.randrange(3, 7)):
        site = rnd.choice(world["sites"])
        v = create_visit(site, rnd.choice((users["sup1"], users["sup2"])),
                         status=rnd.choice(("scheduled", "in_progress", "completed")))
        template_items = template_items or v.template_id
        v.plan_id = rnd.choice((None, plan.id))
        v.preparation_done = rnd.sample(["prep_previous", "prep_notified", "prep_checklist"], rnd.randrange(4))
        v.summary = rnd.choice((None, "", "总结 summary ✓"))
        v.started_at = rnd.choice((None, _time(rnd)))
        v.due_by = rnd.choice((None, date(2026, 12, rnd.randrange(1, 28))))
        v.opening_signature = rnd.choice((None, {"signer": "王", "signed_at": "2026-11-20T09:05:00+08:00",
                                                 "strokes": [[[0.1, 0.2], [0.3, 0.4]]]}))
        visits.append(v)
    db.session.commit()
    from webapp.checklists.models import TemplateItem

    items = list(db.session.query(TemplateItem.id))
    for v in visits:
        db.session.add(Meeting(visit_id=v.id, held_at=rnd.choice((None, _time(rnd))),
                               attendees=rnd.sample(["甲", "乙", "丙", "d"], rnd.randrange(5)), notes="会"))
        for item in rnd.sample(items, rnd.randrange(len(items) + 1)):
            db.session.add(ChecklistAnswer(visit_id=v.id, item_id=item.id, result=rnd.choice(("pass", "fail", None)),
                                           score=rnd.choice((None, 0.5, 3)), photos=[_sha(rnd) for _ in range(rnd.randrange(3))]))
        db.session.add(Metric(visit_id=v.id, kind="business", name="客流", value=rnd.choice((None, 1.5, 120))))
        db.session.add(Interview(visit_id=v.id, interviewee="店员", interviewed_at=rnd.choice((None, _time(rnd)))))
        db.session.add(VisitCheckin(visit_id=v.id, kind="in", lat=31.2, lng=121.5, device_time=_time(rnd),
                                    distance_m=rnd.choice((None, 12.5)), in_fence=rnd.choice((None, True, False))))
        for _ in range(rnd.randrange(1, 4)):
            f = Finding(visit_id=v.id, site_id=v.site_id, supervisor_id=v.supervisor_id, department_id=v.department_id,
                        title=rnd.choice(("地面湿滑", "price tag", "冷柜\"温度\"")), severity="medium", area="process",
                        status=rnd.choice(("open", "rectifying", "closed")), captured_at=_time(rnd),
                        photos=[_sha(rnd) for _ in range(rnd.randrange(4))],
                        markup=rnd.choice((None, {})), has_conflict=rnd.random() < 0.2)
            db.session.add(f)
            db.session.flush()
            if rnd.random() < 0.5:
                db.session.add(RectificationUpdate(finding_id=f.id, note="进度", progress=rnd.randrange(101),
                                                   photos=[_sha(rnd)], author_id=users["head1"].id))
    db.session.commit()
    for model in (Finding, Metric, Meeting):
        for obj in db.session.query(model).all():
            if rnd.random() < 0.15:
                obj.deleted_at = datetime.now(UTC)
    db.session.commit()
    return visits


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_columns_decode_to_the_json_pages(world, device, create_visit, seed):
    rnd = random.Random(seed)
    visits = random_company(rnd, world, create_visit)
    devices = {who: device(world["users"][who]) for who in ("manager", "sup1", "sup2", "head1", "staff1")}
    cursors = {}
    for who, dev in devices.items():
        cursors[who], changes = assert_same(dev)
        if who == "manager":
            assert {c["entity"] for c in changes} >= {"visit", "finding", "meeting", "checklist_answer", "metric",
                                                       "interview", "visit_checkin", "template", "site"}
            assert any("plan_title" in c["data"] for c in changes)  # the extras travel too
    # Then changes: an edit, a deletion (tombstones after a cursor) and a reassignment (exit markers).
    moved = db.session.get(Visit, visits[0].id)
    old_owner = "sup1" if moved.supervisor_id == world["users"]["sup1"].id else "sup2"
    moved.supervisor_id = world["users"]["sup2" if old_owner == "sup1" else "sup1"].id
    finding = db.session.query(Finding).filter(Finding.deleted_at.is_(None)).first()
    finding.deleted_at = datetime.now(UTC)
    db.session.commit()
    for who, dev in devices.items():
        _cursor, changes = assert_same(dev, cursors[who])
        if who == old_owner:
            assert ("visit", moved.id, "out_of_scope") in {key(c) for c in changes}


def test_the_pulled_data_is_the_serializers(world, device, create_visit):
    """The column rows path and serialize() give the same data for every record (one wire rule)."""
    random_company(random.Random(9), world, create_visit)
    changes, _cursor = device(world["users"]["manager"]).pull_all()
    checked = 0
    for c in changes:
        spec = ENTITIES[c["entity"]]
        obj = db.session.get(spec.model, c["id"])
        expected = serialize(spec, obj)
        data = {k: v for k, v in c["data"].items() if k in spec.fields}
        assert data == expected, c["entity"]
        checked += 1
    assert checked > 20
