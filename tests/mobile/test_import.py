import base64
import hashlib
import io
import uuid

import pytest
from PIL import Image

from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.photos.models import Photo


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def _post(client, auth, doc):
    token = auth.csrf()
    db.session.commit()  # on SQLite the test's own open transaction would hold the write lock
    return client.post("/api/v1/sync/import", json=doc, headers={"X-CSRFToken": token})


def _export(visit, user_id, photo: bytes, title="Fire exit blocked"):
    visit_id = visit.id
    db.session.commit()  # end the test's read transaction: SQLite would otherwise lock the request out
    sha = hashlib.sha256(photo).hexdigest()
    fid = str(uuid.uuid4())
    return fid, sha, {
        "format": "supervision-unsynced-v1", "device_id": str(uuid.uuid4()), "user_id": user_id,
        "mutations": [{"mutation_id": str(uuid.uuid4()), "entity": "finding", "id": fid, "op": "upsert",
                       "base_version": 0, "client_time": "2026-11-25T10:00:00+00:00",
                       "data": {"visit_id": visit_id, "title": title, "severity": "high", "photos": [sha],
                                "captured_at": "2026-11-25T10:00:00+00:00"}}],
        "photos": [{"sha256": sha, "content_type": "image/jpeg", "data_base64": base64.b64encode(photo).decode()}],
    }


def test_a_supervisor_imports_their_own_export_once(client, auth, world):
    sup = world["users"]["sup1"]
    fid, sha, doc = _export(world["visits"][0], sup.id, _jpeg())
    auth.login("sup1")
    r = _post(client, auth, doc)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["photos"] == {sha: "stored"}
    assert body["results"][0]["status"] == "applied"
    assert db.session.get(Finding, fid).photos == [sha]
    assert db.session.get(Photo, sha) is not None
    again = _post(client, auth, doc)
    assert again.get_json()["results"][0]["status"] == "duplicate"
    assert again.get_json()["photos"] == {sha: "present"}


@pytest.mark.parametrize(("who", "status"), [("sup2", 403), ("admin", 200)])
def test_someone_elses_file_needs_an_administrator(client, auth, world, who, status):
    fid, _sha, doc = _export(world["visits"][0], world["users"]["sup1"].id, _jpeg())
    auth.login(who)
    r = _post(client, auth, doc)
    assert r.status_code == status
    if status == 200:
        assert r.get_json()["results"][0]["status"] == "applied"
        assert db.session.get(Finding, fid).supervisor_id == world["users"]["sup1"].id


def test_a_damaged_photo_is_reported_not_stored(client, auth, world):
    _fid, sha, doc = _export(world["visits"][0], world["users"]["sup1"].id, _jpeg())
    doc["photos"][0]["data_base64"] = base64.b64encode(b"not the same bytes").decode()
    auth.login("sup1")
    r = _post(client, auth, doc)
    assert r.get_json()["photos"] == {sha: "hash_mismatch"}
    assert db.session.get(Photo, sha) is None


def test_not_an_export_file_is_a_clear_400(client, auth, world):
    auth.login("sup1")
    r = _post(client, auth, {"format": "x", "device_id": str(uuid.uuid4()), "mutations": []})
    assert r.status_code == 400
    assert r.get_json()["error"]["fields"]["format"]


def test_text_with_control_characters_is_rejected_not_stored(client, auth, world):
    """An exported finding titled with a NUL (or pasted from Word) is answered `rejected` naming
    the character, the rest of the file still imports."""
    fid, sha, doc = _export(world["visits"][0], world["users"]["sup1"].id, _jpeg(), title="消防\x0b通道\x00")
    auth.login("sup1")
    r = _post(client, auth, doc)
    assert r.status_code == 200
    body = r.get_json()
    assert body["photos"] == {sha: "stored"}
    assert body["results"][0]["status"] == "rejected" and "U+000B" in body["results"][0]["errors"]["title"][0]
    assert db.session.get(Finding, fid) is None


def _another_writer_gets_in() -> bool:
    """Can another connection start writing right now, without waiting? (SQLite: one writer.)"""
    import sqlite3

    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        return True  # PostgreSQL has no database-wide write lock; the retry test covers it
    con = sqlite3.connect(url.database, timeout=0, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:  # database is locked
        return False
    finally:
        con.close()


def test_photos_are_decoded_before_the_write_lock_is_taken(client, auth, world, monkeypatch):
    """Another user's sign-in must not wait while the import decodes megabytes of photos."""
    from webapp.photos import operations as photo_ops

    real = photo_ops.ingest.process
    during_decode = []

    def process(*args, **kwargs):
        during_decode.append(_another_writer_gets_in())
        return real(*args, **kwargs)

    monkeypatch.setattr(photo_ops.ingest, "process", process)
    fid, sha, doc = _export(world["visits"][0], world["users"]["sup1"].id, _jpeg())
    auth.login("sup1")
    r = _post(client, auth, doc)
    assert r.status_code == 200 and r.get_json()["photos"] == {sha: "stored"}
    assert during_decode == [True]
    assert db.session.get(Finding, fid).photos == [sha]


def test_a_deadlocked_import_runs_again_and_is_applied_once(client, auth, world, monkeypatch):
    from sqlalchemy import func, select
    from sqlalchemy.exc import DBAPIError

    from tests.sync.test_push_retry import _DriverError
    from webapp.mobile import importer
    from webapp.photos.models import PhotoRef

    real = importer.push_mutations
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        results = real(*args, **kwargs)
        if len(calls) == 1:
            raise DBAPIError("UPDATE findings …", {}, _DriverError("40P01"))
        return results

    monkeypatch.setattr(importer, "push_mutations", flaky)
    fid, sha, doc = _export(world["visits"][0], world["users"]["sup1"].id, _jpeg())
    auth.login("sup1")
    r = _post(client, auth, doc)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert len(calls) == 2 and body["photos"] == {sha: "stored"} and body["results"][0]["status"] == "applied"
    db.session.expire_all()
    assert db.session.get(Finding, fid).version == 1 and db.session.get(Photo, sha) is not None
    assert db.session.scalar(select(func.count()).select_from(PhotoRef).where(PhotoRef.sha256 == sha)) == 1
