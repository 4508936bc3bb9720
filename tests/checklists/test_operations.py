"""Template versioning: a visit keeps the revision it was started with."""

import pytest
from sqlalchemy import select

from webapp.checklists.models import ChecklistTemplate
from webapp.checklists.operations import TemplateError, create_template, edit_template
from webapp.extensions import db


@pytest.fixture(autouse=True)
def _in_request(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _items(*rows):
    return [{"area": a, "code": c, "title": t, "weight": w, "scoring": "pass_fail", "max_points": 10.0,
             "photo_required_on_fail": p} for a, c, t, w, p in rows]


def test_editing_a_used_template_makes_a_new_revision(world):
    admin = world["users"]["admin"]
    visit = world["visits"][0]
    old = visit.template
    old_items = [(i.code, i.title, i.weight) for i in old.items]
    new = edit_template(admin, old, {"name": "新版", "name_en": None, "description": None,
                                     "items": _items(("process", "P1", "流程完整性(新)", 2.0, True))})
    db.session.commit()
    assert new.id != old.id and new.code == old.code and new.revision == old.revision + 1
    assert new.is_current and not old.is_current
    assert [(i.code, i.title, i.weight, i.photo_required_on_fail) for i in new.items] == [
        ("P1", "流程完整性(新)", 2.0, True)]
    db.session.expire_all()
    assert visit.template_id == old.id  # the visit keeps its revision …
    assert [(i.code, i.title, i.weight) for i in visit.template.items] == old_items  # … and its items


def test_an_unused_template_is_edited_in_place(world):
    admin = world["users"]["admin"]
    tpl = create_template(admin, {"code": "new-one", "name": "新模板", "items": _items(("risk", "R1", "风险", 1.0, False))})
    db.session.commit()
    assert tpl.code == "NEW-ONE" and tpl.revision == 1
    same = edit_template(admin, tpl, {"name": "改名", "items": _items(("risk", "R1", "风险", 3.0, False),
                                                                     ("service", "S1", "服务", 1.0, True))})
    db.session.commit()
    assert same is tpl and tpl.revision == 1 and tpl.name == "改名"
    assert [i.code for i in tpl.items] == ["R1", "S1"] and tpl.items[0].weight == 3.0
    assert len(db.session.scalars(select(ChecklistTemplate).where(ChecklistTemplate.code == "NEW-ONE")).all()) == 1


def test_old_revisions_are_read_only(world):
    admin = world["users"]["admin"]
    old = world["visits"][0].template
    edit_template(admin, old, {"name": "v2", "items": _items(("process", "P1", "x", 1.0, False))})
    with pytest.raises(TemplateError):
        edit_template(admin, old, {"name": "v3", "items": _items(("process", "P1", "y", 1.0, False))})


@pytest.mark.parametrize("role", ["manager", "sup1", "head1"])
def test_only_admins_change_templates(world, role):
    user = world["users"][role]
    with pytest.raises(TemplateError) as e:
        edit_template(user, world["visits"][0].template, {"name": "x", "items": _items(("risk", "R1", "r", 1.0, False))})
    assert e.value.status == 403
    with pytest.raises(TemplateError):
        create_template(user, {"code": "X", "name": "x", "items": _items(("risk", "R1", "r", 1.0, False))})


def test_code_must_be_new(world):
    admin = world["users"]["admin"]
    with pytest.raises(TemplateError) as e:
        create_template(admin, {"code": "T", "name": "dup", "items": _items(("risk", "R1", "r", 1.0, False))})
    assert "code" in e.value.fields
