"""Lists a page at a time (webapp/core/keyset.py): the condition "after this row" for an order of
columns in either direction, and the cursor that carries a row's values in a link."""

import random
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select

from webapp.core.keyset import Walk, after, page, read_cursor, write_cursor

KINDS = ("date", "moment", "id")


def test_a_cursor_carries_a_rows_values_and_nothing_else_reads_as_one():
    values = (date(2026, 11, 20), datetime(2026, 11, 20, 1, 2, 3, 4, tzinfo=UTC), "0f1e2d3c-0000-4000-8000-000000000000")
    cursor = write_cursor("d", KINDS, values)
    assert read_cursor(cursor, "d", KINDS) == values
    for bad in (None, "", "d", cursor[1:], "u" + cursor[1:], cursor + "_x", cursor.replace("2026", "202"),
                "d20261399_20261120T010203000004_ab", "d20261120_20261120T010203000004_AB", "d\x00_\x00_\x00",
                "d=1+1_20261120T010203000004_ab", "d" + "整改" * 40):
        assert read_cursor(bad, "d", KINDS) is None, bad


@pytest.fixture(scope="module")
def table():
    engine = create_engine("sqlite://")
    rows = Table("rows", MetaData(), Column("a", Integer), Column("b", Integer), Column("id", String, primary_key=True))
    rows.metadata.create_all(engine)
    rng = random.Random(7)
    with engine.begin() as conn:
        conn.execute(insert(rows), [{"a": rng.randint(0, 3), "b": rng.randint(0, 3), "id": f"{n:04x}"} for n in range(200)])
    return engine, rows


@pytest.mark.parametrize("a_desc, b_desc, id_desc", [(False, False, False), (True, False, True), (False, True, True),
                                                     (True, True, False)])
def test_after_is_the_rest_of_the_order_whatever_the_directions(table, a_desc, b_desc, id_desc):
    engine, rows = table
    keys = ((rows.c.a, a_desc), (rows.c.b, b_desc), (rows.c.id, id_desc))
    order = [c.desc() if d else c for c, d in keys]
    with engine.connect() as conn:
        everything = conn.execute(select(rows).order_by(*order)).all()
        for i in (0, 1, 57, 120, 199):
            position = tuple(everything[i])
            assert conn.execute(select(rows).where(after(keys, position)).order_by(*order)).all() == everything[i + 1:]


@pytest.mark.parametrize("limit", [1, 6, 50, 250])
def test_pages_of_two_walks_are_the_whole_list_once(table, limit):
    """Rows with b > 1 by id descending, then the others by id: page after page is the whole list."""
    engine, rows = table
    with engine.connect() as conn:
        fetch = lambda q: conn.execute(q).all()  # noqa: E731
        walks = [Walk("x", select(rows).where(rows.c.b > 1), ((rows.c.id, True),), ("id",), fetch, lambda r: (r.id,)),
                 Walk("y", select(rows).where(rows.c.b <= 1), ((rows.c.id, False),), ("id",), fetch, lambda r: (r.id,))]
        whole = conn.execute(select(rows).where(rows.c.b > 1).order_by(rows.c.id.desc())).all() + \
            conn.execute(select(rows).where(rows.c.b <= 1).order_by(rows.c.id)).all()
        seen, cursor = [], None
        for _ in range(300):
            got, cursor = page(walks, cursor, limit)
            assert len(got) == limit or cursor is None
            seen += got
            if cursor is None:
                break
        assert seen == whole
