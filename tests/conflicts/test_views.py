"""The managers' conflict desk."""

import pytest

from tests.sync.conftest import Device, new_id
from webapp.extensions import db
from webapp.models import Finding


@pytest.fixture
def conflict(world, client):
    sup = Device(client, world["users"]["sup1"])
    mgr = Device(client, world["users"]["manager"])
    fid = new_id()
    sup.push_one("finding", fid, {"visit_id": world["visits"][0].id, "title": "原"})
    mgr.push_one("finding", fid, {"title": "经理"}, base_version=1)
    res = sup.push_one("finding", fid, {"title": "督导"}, base_version=1)
    return fid, res["conflicts"][0]["id"]


@pytest.mark.parametrize("who, status", [("manager", 200), ("admin", 200), ("sup1", 404), ("head1", 404)])
def test_only_management_sees_the_desk(world, auth, client, conflict, who, status):
    db.session.commit()
    auth.login(who)
    assert client.get("/conflicts/").status_code == status


def test_desk_shows_values_side_by_side_and_resolves_with_htmx(world, auth, client, conflict):
    fid, cid = conflict
    db.session.commit()
    auth.login("manager")
    page = client.get("/conflicts/").get_data(as_text=True)
    assert "经理" in page and "督导" in page and "原" in page and f"conflict-{cid}" in page
    token = auth.csrf()
    r = client.post(f"/conflicts/{cid}/resolve", data={"choice": "value", "value": "商定", "csrf_token": token},
                    headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body and f"conflict-{cid}" in body
    db.session.expire_all()
    f = db.session.get(Finding, fid)
    assert f.title == "商定" and not f.has_conflict
    history = client.get(f"/conflicts/history/finding/{fid}").get_data(as_text=True)
    assert "resolution" in history and "conflict" in history


def test_resolve_without_htmx_redirects_and_bad_value_is_shown(world, auth, client, conflict):
    fid, cid = conflict
    db.session.commit()
    auth.login("manager")
    token = auth.csrf()
    r = client.post(f"/conflicts/{cid}/resolve", data={"choice": "value", "value": "x" * 300,
                                                       "csrf_token": token}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'aria-invalid="true"' in r.get_data(as_text=True)
    r = client.post(f"/conflicts/{cid}/resolve", data={"choice": "server", "csrf_token": token})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Finding, fid).title == "经理"
    db.session.commit()
    assert client.post(f"/conflicts/{cid}/resolve", data={"choice": "server"}).status_code == 400  # CSRF


@pytest.mark.parametrize(("lang", "label"), [("zh-CN", "问题 · 标题"), ("en", "Problem · Title")])
def test_desk_names_records_and_fields_in_the_users_language(world, auth, client, conflict, lang, label):
    db.session.commit()
    auth.login("manager")
    page = client.get("/conflicts/", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert label in page and "finding · title" not in page
