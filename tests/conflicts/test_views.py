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
    assert "冲突已解决" in history and "冲突" in history and "resolution" not in history


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


@pytest.fixture
def severity_conflict(world, client):
    sup = Device(client, world["users"]["sup1"])
    mgr = Device(client, world["users"]["manager"])
    fid = new_id()
    sup.push_one("finding", fid, {"visit_id": world["visits"][0].id, "title": "消防通道", "severity": "low"})
    mgr.push_one("finding", fid, {"severity": "high"}, base_version=1)
    res = sup.push_one("finding", fid, {"severity": "medium"}, base_version=1)
    return fid, res["conflicts"][0]["id"]


@pytest.mark.parametrize(("lang", "values", "device"), [("zh-CN", ("轻微", "严重", "一般"), "的手机"),
                                                         ("en", ("Low", "High", "Medium"), "Phone of")])
def test_desk_shows_labelled_values_to_choose_from(world, auth, client, severity_conflict, lang, values, device):
    """Severity codes are shown as their labels, the device by whose phone it is, and another value is
    chosen from the labelled list — never typed as a code."""
    db.session.commit()
    auth.login("manager")
    page = client.get("/conflicts/", headers={"Accept-Language": lang}).get_data(as_text=True)
    for label in values:
        assert f"<strong>{label}</strong>" in page or f">{label}</option>" in page
    assert 'type="radio" name="choice" value="server"' in page and 'type="radio" name="choice" value="client"' in page
    assert '<option value="critical"' in page and device in page
    import re
    text = re.sub(r"<[^>]+>", " ", page)
    assert not re.search(r"\b(low|medium|high)\b", text)


def test_a_chosen_value_is_still_validated_by_the_server(world, auth, client, severity_conflict):
    fid, cid = severity_conflict
    db.session.commit()
    auth.login("manager")
    token = auth.csrf()
    r = client.post(f"/conflicts/{cid}/resolve", data={"choice": "value", "value": "catastrophic", "csrf_token": token},
                    headers={"HX-Request": "true", "Accept-Language": "zh-CN"})
    assert r.status_code == 200 and 'aria-invalid="true"' in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Finding, fid).severity == "high"
    r = client.post(f"/conflicts/{cid}/resolve", data={"choice": "value", "value": "critical", "csrf_token": token},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200
    db.session.expire_all()
    assert db.session.get(Finding, fid).severity == "critical"


def test_keeping_a_side_ignores_the_other_value_field(world, auth, client, severity_conflict):
    fid, cid = severity_conflict
    db.session.commit()
    auth.login("manager")
    r = client.post(f"/conflicts/{cid}/resolve", data={"choice": "client", "value": "critical",
                                                       "csrf_token": auth.csrf()})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Finding, fid).severity == "medium"
