"""Every change to a synced record gets a version, a revision and a new place in the change feed."""

from sqlalchemy import select

from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.models import Change, Revision, TemplateItem
from webapp.sync_store.tracking import set_sync_context


def _change(entity, record_id):
    return db.session.scalar(select(Change).where(Change.entity == entity, Change.record_id == record_id))


def _revisions(record_id):
    return db.session.scalars(select(Revision).where(Revision.record_id == record_id).order_by(Revision.version)).all()


def test_create_update_delete_move_the_feed(world, create_finding):
    visit = world["visits"][0]
    f = create_finding(visit, "原标题")
    assert f.version == 1
    first = _change("finding", f.id)
    assert first.version == 1 and first.supervisor_id == visit.supervisor_id
    assert first.department_id == visit.department_id
    first_seq = first.seq

    f.title = "新标题"
    db.session.commit()
    assert f.version == 2
    second = _change("finding", f.id)
    assert second.seq > first_seq and second.version == 2 and not second.deleted

    f.deleted_at = utcnow()
    db.session.commit()
    assert _change("finding", f.id).deleted

    revs = _revisions(f.id)
    assert [r.version for r in revs] == [1, 2, 3]
    assert revs[0].data["title"] == "原标题" and revs[1].changed == {"title": "新标题"}
    assert revs[1].data["title"] == "新标题" and revs[1].kind == "server"


def test_unchanged_flush_does_not_bump(world):
    f = world["findings"][0]
    f.title = f.title  # same value
    db.session.commit()
    assert f.version == 1 and len(_revisions(f.id)) == 1


def test_revision_records_who_from_the_sync_context(world):
    f = world["findings"][0]
    set_sync_context(db.session, user_id=world["users"]["sup1"].id, device_id="dev-1", mutation_id="m-1",
                     kind="accepted")
    f.severity = "high"
    db.session.commit()
    rev = _revisions(f.id)[-1]
    assert (rev.user_id, rev.device_id, rev.mutation_id, rev.kind) == (world["users"]["sup1"].id, "dev-1", "m-1",
                                                                       "accepted")


def test_editing_a_template_item_changes_the_template(world, create_template):
    tpl = create_template("X")
    before = _change("template", tpl.id).seq
    item = db.session.scalars(select(TemplateItem).where(TemplateItem.template_id == tpl.id)).first()
    item.weight = 2.0
    db.session.commit()
    after = _change("template", tpl.id)
    assert after.seq > before and after.version == 2
    assert _revisions(tpl.id)[-1].data["items"][0]["weight"] == 2.0


def test_reference_data_has_no_scope_keys(world):
    site = world["sites"][0]
    ch = _change("site", site.id)
    assert ch.department_id is None and ch.supervisor_id is None
