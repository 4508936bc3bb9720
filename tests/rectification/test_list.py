"""The rectification list (webapp/rectification/operations.py `open_work`): the user's findings with
their rectification — by deadline, then those without one, newest first — read in two walks of an
index; the same rows, in the same order, as the one joined and sorted statement it replaced."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.rectification.old_list import joined_and_sorted
from webapp.extensions import db
from webapp.rectification import operations as ops
from webapp.rectification.models import Rectification

TODAY = date(2026, 11, 20)
FILTERS = [{}, {"overdue": True}, {"status": "to_plan"}, {"status": "rectifying"},
           {"status": "pending_acceptance"}, {"status": "accepted"}, {"status": "rectifying", "overdue": True}]


@pytest.fixture
def work(world, create_finding):
    """Findings in every state of the loop, two departments, deadlines that tie (then the newest first);
    no two captured at the same moment (the order of such a tie is the database's)."""
    head1, start = world["users"]["head1"], datetime(2026, 9, 1, 9, tzinfo=UTC)
    states = [("open", None, None), ("open", None, None), ("rectifying", "rectifying", -5),
              ("rectifying", "rectifying", -5), ("rectifying", "rectifying", 10), ("pending_acceptance", "pending_acceptance", 3),
              ("closed", "accepted", -30), ("closed", "accepted", -1), ("rectifying", "rectifying", 10)]
    for n, (fstatus, rstatus, days) in enumerate(states):
        for k, visit in enumerate(world["visits"][:2]):
            f = create_finding(visit, f"问题{n}", status=fstatus, captured_at=start + timedelta(hours=n, minutes=k))
            if rstatus:
                db.session.add(Rectification(finding_id=f.id, measures="整改", owner="吴敏", deadline=TODAY + timedelta(days=days),
                                             status=rstatus, round=1, submitted_by=head1.id,
                                             accepted_at=start + timedelta(days=40) if rstatus == "accepted" else None))
    gone = create_finding(world["visits"][0], "已删除", status="rectifying", captured_at=start)
    db.session.add(Rectification(finding_id=gone.id, measures="整改", owner="吴敏", deadline=TODAY - timedelta(days=9),
                                 status="rectifying", round=1, submitted_by=head1.id))
    gone.deleted_at = start
    db.session.commit()
    return world


@pytest.mark.parametrize("who", ["manager", "head1", "sup1"])
@pytest.mark.parametrize("args", FILTERS)
@pytest.mark.parametrize("limit", [300, 3])
def test_the_same_rows_in_the_same_order_as_one_sorted_statement(work, who, args, limit):
    user = work["users"][who]
    rows = ops.open_work(user, args, TODAY, limit=limit)
    expected = joined_and_sorted(user, args, TODAY, limit)
    assert [(f.id, r.id if r else None) for f, r in rows] == [(f.id, r.id if r else None) for f, r in expected]
    if not args and limit == 300 and who == "manager":
        titles = [f.title for f, _r in rows]
        # Seven unclosed states at two visits, and the world's two findings; closed and deleted ones not listed.
        assert len(rows) == 7 * 2 + 2 and "已删除" not in titles and "问题6" not in titles
        assert rows[-1][1] is None and rows[0][1].deadline == TODAY - timedelta(days=5)  # due first, to plan last


def test_the_list_page_uses_it(work, client, auth):
    auth.login("manager")
    html = client.get("/rectification/?overdue=1", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html.count("Overdue</span>") == 4 and "问题0" not in html


def test_the_default_view_walks_the_open_rectifications_by_deadline(work):
    """The statement the list sends can be planned with the index of the rectifications not accepted,
    by deadline: SQLite takes a partial index only for a query that says its condition in the same
    words (Rectification.not_accepted)."""
    from sqlalchemy import event

    engine, statements = db.engine, []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "JOIN rectifications" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        ops.open_work(work["users"]["manager"], {}, TODAY)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    (statement, parameters), = statements
    conn = db.session.connection()
    if engine.dialect.name == "postgresql":
        # PostgreSQL proves a partial index's condition from the query itself, and picks by cost (on
        # a handful of rows, not this one): the index is there, with its condition.
        definition = conn.exec_driver_sql("SELECT indexdef FROM pg_indexes WHERE indexname = "
                                          "'ix_rectifications_open_deadline'").scalar_one()
        assert "(deadline)" in definition and "<> 'accepted'" in definition, definition
        assert "!= 'accepted'" in statement  # and the query states it
    else:
        # SQLite picks among usable indexes by its own estimates (here the full deadline index does as
        # well); that the partial one is usable at all, it says by planning with it when told to — a
        # query that did not state its condition would be refused ("no query solution").
        told = statement.replace("JOIN rectifications ON", "JOIN rectifications INDEXED BY ix_rectifications_open_deadline ON")
        assert told != statement
        plan = "\n".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + told, parameters))
        assert "ix_rectifications_open_deadline" in plan, plan
    db.session.rollback()
