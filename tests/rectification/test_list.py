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
    rows, _next = ops.open_work(user, args, TODAY, limit=limit)
    expected = joined_and_sorted(user, args, TODAY, limit)
    assert [(f.id, r.id if r else None) for f, r in rows] == [(f.id, r.id if r else None) for f, r in expected]
    if not args and limit == 300 and who == "manager":
        titles = [f.title for f, _r in rows]
        # Seven unclosed states at two visits, and the world's two findings; closed and deleted ones not listed.
        assert len(rows) == 7 * 2 + 2 and "已删除" not in titles and "问题6" not in titles
        assert rows[-1][1] is None and rows[0][1].deadline == TODAY - timedelta(days=5)  # due first, to plan last


@pytest.mark.parametrize("who", ["manager", "head1"])
@pytest.mark.parametrize("args", FILTERS)
@pytest.mark.parametrize("limit", [1, 3, 16])
def test_its_pages_hold_every_row_once_in_order(work, who, args, limit):
    """Page after page ("Load more"), each after the cursor of the last row of the one before, the
    pages are the whole list: across the seam between rows with a rectification and those to plan,
    across deadlines that tie, and a last page that says there is no more."""
    user, seen, cursor = work["users"][who], [], None
    for _ in range(100):
        rows, cursor = ops.open_work(user, {**args, "cursor": cursor}, TODAY, limit=limit)
        assert len(rows) <= limit and (cursor is None or len(rows) == limit)
        seen += [(f.id, r.id if r else None) for f, r in rows]
        if cursor is None:
            break
    expected = joined_and_sorted(user, args, TODAY, 1000)
    assert seen == [(f.id, r.id if r else None) for f, r in expected]


def test_rows_that_tie_are_paged_by_id(world, create_finding):
    """The same deadline and capture time, and the same capture time to plan: one row a page, each
    row once, by id (newest-first order's tie-break) — the seeded chain has thousands of such ties."""
    head1, at = world["users"]["head1"], datetime(2026, 10, 1, 9, tzinfo=UTC)
    planned, unplanned = [], []
    for n in range(4):
        f = create_finding(world["visits"][0], f"同时{n}", status="rectifying", captured_at=at)
        db.session.add(Rectification(finding_id=f.id, measures="整改", owner="吴敏", deadline=TODAY,
                                     status="rectifying", round=1, submitted_by=head1.id))
        planned.append(f.id)
        unplanned.append(create_finding(world["visits"][1], f"待定{n}", status="open", captured_at=at).id)
    db.session.commit()
    seen, cursor = [], None
    for _ in range(40):
        rows, cursor = ops.open_work(world["users"]["manager"], {"cursor": cursor}, TODAY, limit=1)
        seen += [f.id for f, _r in rows if f.id in planned + unplanned]
        if cursor is None:
            break
    assert seen == sorted(planned, reverse=True) + sorted(unplanned, reverse=True)


@pytest.mark.parametrize("cursor", ["", "d", "u", "x2026_1", "d20261399_20261120T000000000000_a", "d2026_x_y",
                                    "u20261120T000000000000", "u=HYPERLINK(\"x\")_1", "d\x00_\x00_\x00", "整改" * 40])
def test_a_cursor_that_does_not_read_is_the_first_page(work, cursor):
    manager = work["users"]["manager"]
    assert ops.open_work(manager, {"cursor": cursor}, TODAY, limit=5) == ops.open_work(manager, {}, TODAY, limit=5)


def test_load_more_brings_the_next_rows_with_the_filters_kept(work, client, auth, monkeypatch):
    """50 rows a page: with 3, "Load more" links to the next rows (htmx: only those, the first taking
    the keyboard focus; without JavaScript: the page of them), the filters kept, and the last page has none."""
    import re

    monkeypatch.setattr(ops, "LIST_PAGE", 3)
    auth.login("manager")
    en = {"Accept-Language": "en"}
    html = client.get("/rectification/?status=rectifying", headers=en).get_data(as_text=True)
    assert html.count('href="/rectification/') - html.count("?cursor") == 3 and "Load more" in html
    more = re.search(r'hx-get="(/rectification/\?[^"]+)"', html).group(1).replace("&amp;", "&")
    assert "status=rectifying" in more and "cursor=d" in more
    part = client.get(more, headers={**en, "HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in part and part.count(" autofocus") == 1 and "Load more" in part
    whole = client.get(more, headers=en).get_data(as_text=True)  # no JavaScript: a page of the next rows
    assert "<html" in whole and whole.count(" autofocus") == 1
    ids = []
    url = "/rectification/?status=rectifying"
    for _ in range(10):
        page = client.get(url, headers={**en, "HX-Request": "true"} if "cursor" in url else en).get_data(as_text=True)
        ids += re.findall(r'href="/rectification/([0-9a-f-]+)"', page)
        nxt = re.search(r'hx-get="(/rectification/\?[^"]+)"', page)
        if not nxt:
            break
        url = nxt.group(1).replace("&amp;", "&")
    # Rectifying: states 2, 3, 4 and 8 at two visits each, and none twice.
    assert len(ids) == 8 and len(set(ids)) == 8
    zh = client.get(more, headers={"Accept-Language": "zh-CN", "HX-Request": "true"}).get_data(as_text=True)
    assert "加载更多" in zh


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
