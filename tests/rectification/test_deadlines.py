"""webapp/rectification/deadlines.py: a finding's copy of its rectification's deadline (while being
rectified) follows every step of the loop, costs the finding no version, and equals the
rectifications after the demo seed and seed-scale; the overdue filter reads it."""

from datetime import date, timedelta

from sqlalchemy import select

from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.rectification import operations as ops
from webapp.rectification.deadlines import copied_deadline, copy_all
from webapp.rectification.models import Rectification

LATER = date(2026, 11, 30)  # after the pinned today, 2026-11-20 (tests/conftest.py)


def stored(finding_id):
    """The column as stored (not the session's copy of the object)."""
    return db.session.execute(select(Finding.__table__.c.rectification_deadline)
                              .where(Finding.__table__.c.id == finding_id)).scalar_one()


def every_copy_is_right() -> bool:
    rects = {r.finding_id: r for r in db.session.scalars(select(Rectification))}
    rows = db.session.execute(select(Finding.id, Finding.rectification_deadline)).all()
    return all(deadline == copied_deadline(rects.get(fid)) for fid, deadline in rows)


def test_the_copy_follows_the_loop(world):
    f, head, sup = world["findings"][0], world["users"]["head1"], world["users"]["sup1"]
    assert stored(f.id) is None
    rect = ops.submit_plan(f, head, "补齐签字", "员工甲", LATER)
    db.session.commit()
    version = f.version
    assert stored(f.id) == LATER and f.rectification_deadline == LATER
    ops.submit_plan(f, head, "补齐签字", "员工甲", LATER + timedelta(days=2))  # the plan's deadline changed
    db.session.commit()
    assert stored(f.id) == LATER + timedelta(days=2)
    ops.submit_for_acceptance(f, head)
    db.session.commit()
    assert stored(f.id) is None  # awaiting acceptance: not overdue whatever the date
    ops.decide_acceptance(f, sup, "fail", "签字不全", LATER + timedelta(days=5))
    db.session.commit()
    assert stored(f.id) == LATER + timedelta(days=5) == rect.deadline
    ops.submit_for_acceptance(f, head)
    ops.decide_acceptance(f, sup, "pass")
    db.session.commit()
    assert stored(f.id) is None and f.rectification_deadline is None
    assert every_copy_is_right()
    # the copy is not synced data: the finding's versions are those of its status changes alone
    assert f.version == version + 4


def test_a_deleted_rectification_leaves_no_copy(world):
    f = world["findings"][0]
    rect = ops.submit_plan(f, world["users"]["head1"], "m", "o", LATER)
    db.session.commit()
    db.session.delete(rect)
    db.session.commit()
    assert stored(f.id) is None


def test_overdue_reads_the_copy(world, create_finding):
    """The list's overdue filter and the rectifications agree (ops.overdue_among): past the deadline
    and being rectified is overdue; due later, or awaiting acceptance, is not."""
    from webapp.findings.search import filtered

    head = world["users"]["head1"]
    f1 = world["findings"][0]
    f2, f3 = (create_finding(world["visits"][0], title) for title in ("第二个", "第三个"))
    for f, deadline in ((f1, date(2026, 11, 25)), (f2, date(2026, 11, 27)), (f3, date(2026, 11, 25))):
        ops.submit_plan(f, head, "m", "o", deadline)
    db.session.commit()
    ops.submit_for_acceptance(f3, head)
    db.session.commit()
    manager = world["users"]["manager"]
    dialect = db.engine.dialect.name
    ids = [f.id for f in (f1, f2, f3)]

    def overdue_on(day):
        listed = {f.id for f in db.session.scalars(filtered(manager, {"overdue": True}, dialect, today=day))}
        assert listed == set(ops.overdue_among(ids, day))
        return listed

    assert overdue_on(date(2026, 11, 25)) == set()  # due that day: not yet
    assert overdue_on(date(2026, 11, 26)) == {f1.id}
    assert overdue_on(date(2027, 1, 1)) == {f1.id, f2.id}  # f3 awaits acceptance


def test_copy_all_repairs_rows_written_without_the_orm(world):
    f = world["findings"][0]
    ops.submit_plan(f, world["users"]["head1"], "m", "o", LATER)
    db.session.commit()
    db.session.execute(Finding.__table__.update().values(rectification_deadline=date(2000, 1, 1)))
    assert not every_copy_is_right()
    copy_all(db.session)
    db.session.commit()
    assert every_copy_is_right() and stored(f.id) == LATER
