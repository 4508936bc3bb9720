"""A finding's responsible person is one of the site's people — its manager, then the people of the
site's department and of the finding's responsible department — on the phone's push as on the desk."""

import pytest

from tests.sync.conftest import new_id
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.org.models import Person
from webapp.org.operations import is_site_person, site_people


@pytest.fixture
def people(world):
    d1, d2 = world["depts"]
    s1 = world["sites"][0]
    boss, clerk, other = (Person(name="王店长", department_id=d1.id), Person(name="艾文员", department_id=d1.id),
                          Person(name="二部人", department_id=d2.id))
    db.session.add_all([boss, clerk, other])
    db.session.flush()
    s1.manager_person_id = boss.id
    db.session.commit()
    return {"boss": boss, "clerk": clerk, "other": other}


def test_the_manager_comes_first_then_by_name(world, people):
    s1 = world["sites"][0]
    names = [p.name for p in site_people(s1)]
    assert names[0] == "王店长" and "艾文员" in names and "二部人" not in names
    assert "二部人" in [p.name for p in site_people(s1, world["depts"][1].id)]
    assert is_site_person(s1, None, "") and is_site_person(s1, None, " 艾文员 ".strip())
    assert not is_site_person(s1, None, "路人甲") and not is_site_person(None, None, "艾文员")


@pytest.fixture
def sup1(world, device):
    return device(world["users"]["sup1"])


def _finding(world, **data):
    return {"visit_id": world["visits"][0].id, "title": "消防通道堵塞", "severity": "medium", **data}


def test_a_push_names_only_the_sites_people(world, people, sup1):
    bad = sup1.push_one("finding", new_id(), _finding(world, responsible_person="路人甲"))
    assert bad["status"] == "rejected" and set(bad["errors"]) == {"responsible_person"}
    fid = new_id()
    assert sup1.push_one("finding", fid, _finding(world, responsible_person="王店长"))["status"] == "applied"
    # Another department's person only when that department is responsible.
    assert sup1.push_one("finding", fid, {"responsible_person": "二部人"}, base_version=1)["status"] == "rejected"
    res = sup1.push_one("finding", fid, {"responsible_person": "二部人", "department_id": world["depts"][1].id},
                        base_version=1)
    assert res["status"] == "applied" and db.session.get(Finding, fid).responsible_person == "二部人"


def test_a_legacy_name_travels_unchanged_and_empty_is_fine(world, people, sup1):
    f1 = world["findings"][0]  # responsible_person "员工甲" from before the rule, not a person record
    assert sup1.push_one("finding", f1.id, {"responsible_person": "员工甲", "title": "新标题"},
                         base_version=f1.version)["status"] == "applied"
    assert sup1.push_one("finding", new_id(), _finding(world, responsible_person=None))["status"] == "applied"


def test_the_site_sends_its_manager_with_the_reference_data(world, people, sup1):
    changes = sup1.pull()["changes"]
    site = next(c["data"] for c in changes if c["entity"] == "site" and c["id"] == world["sites"][0].id)
    assert site["manager_person_id"] == people["boss"].id
