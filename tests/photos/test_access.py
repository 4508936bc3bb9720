"""Who may see a photo: whoever can see a record that refers to it (webapp/authz.py)."""

import pytest

from tests.photos.images import jpeg, sha
from tests.photos.test_api import put, token_for
from webapp.extensions import db
from webapp.photos.operations import photo_visible_to
from webapp.rectification.models import RectificationUpdate
from webapp.visits.models import ChecklistAnswer


@pytest.fixture
def evidence(client, world):
    """A photo uploaded by sup1 and attached to sup1's finding (department D1)."""
    data = jpeg()
    assert put(client, token_for(client, "sup1"), data).status_code == 201
    finding = world["findings"][0]
    finding.photos = [sha(data)]
    db.session.commit()
    return sha(data)


@pytest.mark.parametrize(("username", "display", "original"), [
    ("admin", 200, 200),
    ("manager", 200, 200),
    ("sup1", 200, 403),   # their own visit, but the original is management's
    ("sup2", 404, 404),   # another supervisor's visit: does not exist for them
    ("head1", 200, 403),  # the finding's department
    ("head2", 404, 404),
    ("staff1", 200, 403),  # named responsible person
])
def test_photo_access_by_role(client, evidence, username, display, original):
    headers = token_for(client, username)
    r = client.get(f"/api/v1/photos/{evidence}?variant=display", headers=headers)
    assert r.status_code == display
    if display != 200:
        assert r.get_json()["error"]["code"] == "not_found"
    r = client.get(f"/api/v1/photos/{evidence}?variant=original", headers=headers)
    assert r.status_code == original
    r.close()


def test_uploader_sees_unreferenced_photo_only_they_uploaded(client, world):
    data = jpeg((320, 200))
    digest = sha(data)
    put(client, token_for(client, "sup2"), data)
    assert client.get(f"/api/v1/photos/{digest}?variant=thumb", headers=token_for(client, "sup2")).status_code == 200
    assert client.get(f"/api/v1/photos/{digest}?variant=thumb", headers=token_for(client, "sup1")).status_code == 404
    # Once a record refers to it, the record's scope decides: here sup1's finding.
    world["findings"][0].photos = [digest]
    db.session.commit()
    assert client.get(f"/api/v1/photos/{digest}?variant=thumb", headers=token_for(client, "sup1")).status_code == 200
    assert client.get(f"/api/v1/photos/{digest}?variant=thumb", headers=token_for(client, "sup2")).status_code == 404


def test_head_answers_existence_only(client, evidence):
    # Knowing the hash means holding the photo; HEAD is the contract's "do you have it?".
    assert client.head(f"/api/v1/photos/{evidence}", headers=token_for(client, "sup2")).status_code == 200
    assert client.head(f"/api/v1/photos/{'0' * 64}", headers=token_for(client, "sup2")).status_code == 404


def test_checklist_answer_and_rectification_update_references(app, world):
    users, (v1, _v2), (f1, _f2) = world["users"], world["visits"], world["findings"]
    from webapp.photos.models import Photo

    a, b = "a" * 64, "b" * 64
    db.session.add_all([Photo(sha256=a, size=1, content_type="image/jpeg", variants={}),
                        Photo(sha256=b, size=1, content_type="image/jpeg", variants={})])
    item = v1.template.items[0]
    db.session.add(ChecklistAnswer(visit_id=v1.id, item_id=item.id, result="fail", photos=[a]))
    db.session.add(RectificationUpdate(finding_id=f1.id, note="done", progress=100, photos=[b]))
    db.session.commit()
    assert photo_visible_to(users["sup1"], a) and not photo_visible_to(users["sup2"], a)
    assert photo_visible_to(users["head1"], b) and not photo_visible_to(users["head2"], b)
    assert not photo_visible_to(users["sup1"], "c" * 64)
