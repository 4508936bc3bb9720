"""Every change to a synced record gets a version, a revision and a new place in the change feed."""

import os

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.models import Change, Finding, Revision, TemplateItem
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
    title = f.title
    f.title, f.title = "改过", title  # changed and changed back: set, yet not modified
    db.session.commit()
    assert f.version == 1 and len(_revisions(f.id)) == 1
    f.visit = world["visits"][1]  # a change through a relationship is one
    db.session.commit()
    assert f.version == 2 and len(_revisions(f.id)) == 2


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


def test_the_feed_row_moves_at_commit_and_a_rolled_back_savepoint_leaves_none(world):
    f, g = world["findings"][0], world["findings"][1]
    db.session.commit()
    f_seq, g_seq = _change("finding", f.id).seq, _change("finding", g.id).seq
    f.title = "保存点之外"
    db.session.flush()
    assert f.version == 2 and _change("finding", f.id).seq == f_seq  # the feed moves only at commit
    with pytest.raises(RuntimeError), db.session.begin_nested():
        g.title = "保存点之内"
        f.severity = "critical"
        db.session.flush()
        raise RuntimeError
    db.session.commit()
    moved = _change("finding", f.id)
    assert moved.seq > f_seq and moved.version == 2 and f.severity != "critical"
    assert _change("finding", g.id).seq == g_seq and g.version == 1 and g.title != "保存点之内"
    assert [r.version for r in _revisions(g.id)] == [1]


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="two writers at once: PostgreSQL only (SQLite has one writer at a time)")
def test_sequence_order_is_commit_order(world):
    """A writer that started first but commits last gets the later place in the feed, so a device
    whose cursor passed the first commit still pulls the second."""
    first, second = world["findings"][0].id, world["findings"][1].id
    db.session.commit()
    with Session(db.engine) as a, Session(db.engine) as b:
        a.get(Finding, first).title = "先开始，后提交"
        a.flush()  # a holds its row and its revision, but no place in the feed yet
        b.execute(text("SET LOCAL lock_timeout = '5s'"))  # fail, not hang, if a's flush held the feed
        b.get(Finding, second).title = "后开始，先提交"
        b.commit()  # not blocked by a
        b_seq = b.scalar(select(Change.seq).where(Change.record_id == second))
        a.commit()
        a_seq = a.scalar(select(Change.seq).where(Change.record_id == first))
    assert a_seq > b_seq


def test_a_write_from_a_stale_read_is_refused_not_numbered_twice(world):
    """Versions form one line whoever writes: a flush checks that the record is still at the
    version its writer loaded."""
    fid = world["findings"][0].id
    db.session.commit()
    with Session(db.engine, expire_on_commit=False) as a, Session(db.engine) as b:
        stale = a.get(Finding, fid)
        a.commit()  # a's read is over; it still holds version 1
        b.get(Finding, fid).title = "先保存的"
        b.commit()
        stale.title = "后保存的"
        with pytest.raises(StaleDataError):
            a.commit()
        a.rollback()
    db.session.expire_all()
    assert db.session.get(Finding, fid).title == "先保存的"
    assert [r.version for r in _revisions(fid)] == [1, 2]
    assert _change("finding", fid).version == 2


def test_a_stale_write_in_a_request_answers_409_in_the_users_language(app, client):
    @app.get("/_test/stale")  # a GET: the handler is the subject here, not CSRF
    def _stale():
        raise StaleDataError("UPDATE statement on table 'findings' expected to update 1 row(s); 0 were matched.")

    r = client.get("/_test/stale", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 409 and "其他人" in r.get_data(as_text=True)
    r = client.get("/_test/stale", headers={"Accept-Language": "en"})
    assert r.status_code == 409 and "Someone else changed this record" in r.get_data(as_text=True)
