"""0120_warning_groups on existing rows: one-per-finding high-severity warnings fold into one per
site × problem (count and last seen kept, the others closed and pointing to it), a repeat-problem
warning naming several items becomes one per item; the schema comes back as the models say."""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from webapp.core.models import UTCDateTime
from webapp.extensions import db
from webapp.models import TemplateItem, Warning

OLD = sa.table("warnings", sa.column("id", sa.String), sa.column("kind", sa.String),
               sa.column("subject_type", sa.String), sa.column("subject_id", sa.String),
               sa.column("message", sa.Text), sa.column("params", sa.JSON), sa.column("status", sa.String),
               sa.column("acknowledged_by", sa.String), sa.column("acknowledged_at", UTCDateTime()),
               sa.column("closed_at", UTCDateTime()), sa.column("created_at", UTCDateTime()),
               sa.column("updated_at", UTCDateTime()))


def _old(kind, subject_type, subject_id, status="open", day=1, params=None, **kw):
    wid = str(uuid.uuid4())
    when = datetime(2026, 11, day, 2, tzinfo=UTC)
    db.session.execute(OLD.insert().values(id=wid, kind=kind, subject_type=subject_type, subject_id=subject_id,
                                           message="m", params=params or {}, status=status, created_at=when,
                                           updated_at=when, **kw))
    return wid


def test_the_migration_folds_duplicates_and_splits_site_lists(app, world, create_finding, create_template):
    tpl = create_template("TM")
    items = db.session.scalars(select(TemplateItem).where(TemplateItem.template_id == tpl.id)
                               .order_by(TemplateItem.code)).all()
    v1, v2 = world["visits"]
    same = [create_finding(v1, f"同一问题 {i}", severity="high", item_id=items[0].id) for i in range(3)]
    other = create_finding(v2, "另一场所", severity="high", item_id=items[0].id)
    no_item = create_finding(v1, "按区域", severity="critical", area="service")
    manager = world["users"]["manager"].id
    ids = {"same": [f.id for f in same], "other": other.id, "no_item": no_item.id, "site1": v1.site_id,
           "site2": v2.site_id, "items": [i.id for i in items[:2]], "codes": [i.code for i in items[:2]]}
    db.session.commit()
    db.session.close()
    downgrade(revision="0119_aggregates")
    try:
        first = _old("high_severity_open", "finding", ids["same"][0], day=1)
        kept = _old("high_severity_open", "finding", ids["same"][1], "acknowledged", day=3, acknowledged_by=manager,
                    acknowledged_at=datetime(2026, 11, 4, tzinfo=UTC))
        third = _old("high_severity_open", "finding", ids["same"][2], day=9)
        lone = _old("high_severity_open", "finding", ids["other"], day=2)
        area = _old("high_severity_open", "finding", ids["no_item"], day=2)
        old_closed = _old("high_severity_open", "finding", ids["same"][0], "closed", day=1)
        items_params = {"site": "S1", "threshold": 2, "items": [
            {"id": ids["items"][0], "code": ids["codes"][0], "title": "甲", "title_en": None, "count": 4},
            {"id": ids["items"][1], "code": ids["codes"][1], "title": "乙", "title_en": None, "count": 2}]}
        repeat = _old("repeat_problem", "site", ids["site1"], "acknowledged", day=5, params=items_params,
                      acknowledged_by=manager)
        db.session.commit()
    finally:
        upgrade()
    db.session.expire_all()
    rows = {w.id: w for w in db.session.scalars(select(Warning))}

    k = rows[kept]  # acknowledged before open: it keeps the group and counts the three
    assert (k.status, k.subject_type, k.subject_id, k.problem_key) == ("acknowledged", "site", ids["site1"], ids["items"][0])
    assert (k.occurrences, sorted(k.occurrence_ids), k.last_seen_on.isoformat()) == (
        3, sorted(ids["same"]), "2026-11-09")
    for folded in (first, third):
        assert (rows[folded].status, rows[folded].merged_into, rows[folded].closed_by) == ("closed", kept, None)
    assert (rows[lone].status, rows[lone].subject_id, rows[lone].occurrences) == ("open", ids["site2"], 1)
    assert (rows[area].problem_key, rows[area].status) == ("area:service", "open")
    assert rows[old_closed].status == "closed" and rows[old_closed].merged_into is None

    split = sorted((w for w in rows.values() if w.kind == "repeat_problem"), key=lambda w: w.problem_key != ids["items"][0])
    assert [w.id == repeat for w in split] == [True, False]
    assert [(w.problem_key, w.occurrences, w.status, w.acknowledged_by, w.params["problem"]["title"], w.params["count"])
            for w in split] == [(ids["items"][0], 4, "acknowledged", manager, "甲", 4),
                                (ids["items"][1], 2, "acknowledged", manager, "乙", 2)]
    live = [(w.kind, w.subject_type, w.subject_id, w.problem_key) for w in rows.values()
            if w.status in ("open", "acknowledged")]
    assert len(live) == len(set(live))  # the unique index holds again
