from datetime import UTC, datetime, timedelta

from tests.photos.images import jpeg, sha
from webapp.extensions import db
from webapp.photos.models import Photo
from webapp.photos.operations import process_upload, save_photo
from webapp.photos.storage import get_store


def _stored(user, size, days_ago):
    data = jpeg(size)
    photo, _ = save_photo(sha(data), data, process_upload(data), user)
    photo.uploaded_at = datetime.now(UTC) - timedelta(days=days_ago)
    db.session.commit()
    return photo.sha256


def test_orphans_listed_and_purged_referenced_never(runner, world):
    sup1 = world["users"]["sup1"]
    old_orphan = _stored(sup1, (300, 200), days_ago=30)
    new_orphan = _stored(sup1, (301, 200), days_ago=1)  # inside the grace period
    referenced = _stored(sup1, (302, 200), days_ago=400)
    deleted_ref = _stored(sup1, (303, 200), days_ago=400)  # a soft-deleted record still holds evidence
    f1, f2 = world["findings"]
    f1.photos = [referenced]
    f2.photos = [deleted_ref]
    f2.deleted_at = datetime.now(UTC)
    db.session.commit()

    out = runner.invoke(args=["photos", "orphans", "--older-than-days", "7"])
    assert out.exit_code == 0, out.output
    assert old_orphan in out.output
    assert new_orphan not in out.output and referenced not in out.output and deleted_ref not in out.output
    assert db.session.get(Photo, old_orphan) is not None  # listing deletes nothing

    out = runner.invoke(args=["photos", "orphans", "--older-than-days", "7", "--purge"])
    assert out.exit_code == 0, out.output
    assert "purged 1" in out.output
    db.session.expire_all()
    store = get_store()
    assert db.session.get(Photo, old_orphan) is None
    assert not store.exists(old_orphan) and not store.exists(f"{old_orphan}.thumb.jpg")
    for kept in (new_orphan, referenced, deleted_ref):
        assert db.session.get(Photo, kept) is not None and store.exists(kept)

    out = runner.invoke(args=["photos", "orphans", "--older-than-days", "0", "--purge"])
    assert "purged 1" in out.output  # the young orphan; referenced photos stay, whatever their age
    db.session.expire_all()
    assert db.session.get(Photo, referenced) is not None and db.session.get(Photo, deleted_ref) is not None
