"""photo_refs: which record refers to which photo, written with the record in the same transaction
whatever path wrote it, and the one indexed lookup a photo GET decides access with."""

import hashlib

from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, event, func, select

from tests.photos.images import jpeg, sha
from tests.photos.test_api import put, token_for
from tests.sync.conftest import Device, new_id
from webapp.extensions import db
from webapp.photos.models import PhotoRef
from webapp.photos.operations import photo_visible_to
from webapp.visits.models import ChecklistAnswer


def _refs(record_id=None):
    q = select(PhotoRef.sha256, PhotoRef.entity, PhotoRef.record_id).order_by(PhotoRef.sha256)
    if record_id:
        q = q.where(PhotoRef.record_id == record_id)
    return [tuple(r) for r in db.session.execute(q)]


def _h(i) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


def test_a_form_edit_writes_the_refs_in_its_transaction(app, world):
    finding = world["findings"][0]
    finding.photos = [_h(1), _h(2)]
    db.session.flush()
    assert _refs(finding.id) == sorted([(_h(1), "finding", finding.id), (_h(2), "finding", finding.id)])
    db.session.rollback()  # the record's change and its refs go together
    assert _refs(finding.id) == []
    finding = world["findings"][0]
    finding.photos = [_h(1)]
    db.session.commit()
    finding.photos = [_h(3)]
    db.session.commit()
    assert _refs(finding.id) == [(_h(3), "finding", finding.id)]
    finding.deleted_at = func.now()  # a soft delete keeps its evidence, and the refs
    db.session.commit()
    assert _refs(finding.id) == [(_h(3), "finding", finding.id)]
    db.session.delete(db.session.get(ChecklistAnswer, _answer(world, [_h(4)])))
    db.session.commit()
    assert [r for r in _refs() if r[1] == "checklist_answer"] == []


def test_many_refs_in_one_flush(app, world):
    # Enough rows for sync.sql.insert_rows to COPY them on PostgreSQL: the same refs either way,
    # rolled back with the record, replaced when the list changes.
    findings = world["findings"][:2]
    findings[0].photos = [_h(i) for i in range(12)]
    findings[1].photos = [_h(i) for i in range(10, 15)]
    db.session.flush()
    assert _refs(findings[0].id) == sorted((_h(i), "finding", findings[0].id) for i in range(12))
    db.session.rollback()
    assert _refs(findings[0].id) == [] and _refs(findings[1].id) == []
    findings = world["findings"][:2]
    findings[0].photos = [_h(i) for i in range(12)]
    findings[1].photos = [_h(i) for i in range(10, 15)]
    db.session.commit()
    findings[0].photos = [_h(i) for i in range(6, 18)]
    db.session.commit()
    assert _refs(findings[0].id) == sorted((_h(i), "finding", findings[0].id) for i in range(6, 18))
    assert _refs(findings[1].id) == sorted((_h(i), "finding", findings[1].id) for i in range(10, 15))


def _answer(world, photos) -> str:
    visit = world["visits"][0]
    answer = ChecklistAnswer(visit_id=visit.id, item_id=visit.template.items[0].id, result="fail", photos=photos)
    db.session.add(answer)
    db.session.commit()
    assert _refs(answer.id) == [(photos[0], "checklist_answer", answer.id)]
    return answer.id


def test_the_sync_push_writes_the_refs(client, world):
    sup1 = Device(client, world["users"]["sup1"])
    fid = new_id()
    res = sup1.push_one("finding", fid, {"visit_id": world["visits"][0].id, "title": "消防通道堵塞",
                                         "severity": "high", "photos": [_h(1), _h(2)]})
    assert res["status"] == "applied"
    assert {r[0] for r in _refs(fid)} == {_h(1), _h(2)}
    sup1.push_one("finding", fid, {"photos": [_h(2)]}, base_version=1)
    db.session.expire_all()
    assert {r[0] for r in _refs(fid)} == {_h(2)}


def test_the_phone_export_import_writes_the_refs(client, auth, world):
    from tests.mobile.test_import import _export, _jpeg, _post

    fid, digest, doc = _export(world["visits"][0], world["users"]["sup1"].id, _jpeg())
    auth.login("sup1")
    assert _post(client, auth, doc).status_code == 200
    assert _refs(fid) == [(digest, "finding", fid)]


def test_access_is_one_indexed_lookup_without_json_scans(app, client, world):
    data = jpeg()
    digest = sha(data)
    assert put(client, token_for(client, "sup2"), data).status_code == 201
    world["findings"][0].photos = [digest]
    db.session.commit()
    users = world["users"]
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        for name, expected in (("sup1", True), ("head1", True), ("staff1", True), ("sup2", False), ("head2", False)):
            statements.clear()
            assert photo_visible_to(users[name], digest) is expected, name
            photo_queries = [s for s in statements if "photo" in s.lower()]
            assert len(photo_queries) == 1, photo_queries
            assert "LIKE" not in photo_queries[0].upper() and "photo_refs" in photo_queries[0]
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


def test_the_migration_backfills_the_refs(app, world):
    finding = world["findings"][0]
    finding.photos = [_h(1)]
    answer_id = _answer(world, [_h(2)])
    db.session.commit()
    db.session.execute(delete(PhotoRef))  # as before the migration
    db.session.commit()
    downgrade(revision="0100_sessions_and_share_expiry")  # the revision before photo_refs
    upgrade()
    db.session.expire_all()
    assert set(_refs()) == {(_h(1), "finding", finding.id), (_h(2), "checklist_answer", answer_id)}
