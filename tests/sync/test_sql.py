"""sync/sql.py: among() selects what `in_` selects, on the test database (SQLite or PostgreSQL),
and on PostgreSQL sends the values as one parameter whatever their number."""

import uuid

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.dialects import postgresql

from sync.sql import among
from webapp.extensions import db
from webapp.sync_store.models import Change


@pytest.fixture
def feed(app):
    ids = [str(uuid.uuid4()) for _ in range(130)]
    with app.app_context():
        db.session.execute(insert(Change.__table__), [
            {"entity": "finding", "record_id": rid, "version": 1, "deleted": False} for rid in ids])
        db.session.commit()
    return ids


@pytest.mark.parametrize("count", [1, 3, 120])
def test_among_selects_what_in_selects(app, feed, count):
    wanted = feed[:count] + [str(uuid.uuid4())]  # one that is not there
    with app.app_context():
        by_in = set(db.session.scalars(select(Change.record_id).where(Change.record_id.in_(wanted))))
        by_among = set(db.session.scalars(select(Change.record_id).where(among(Change.record_id, wanted),
                                                                           Change.entity == "finding")))
        assert by_among == by_in == set(feed[:count])
        # the same statement again with other values: a cached compilation must not keep the first ones
        assert set(db.session.scalars(select(Change.record_id).where(among(Change.record_id, feed[-2:])))) == set(feed[-2:])


def test_among_deletes(app, feed):
    with app.app_context():
        db.session.execute(delete(Change.__table__).where(among(Change.__table__.c.record_id, feed[:10])))
        assert db.session.scalar(select(db.func.count()).select_from(Change)) == len(feed) - 10


def test_among_is_one_parameter_on_postgresql():
    """The statement is the same text for 2 values or 200 (psycopg parses it once)."""
    def compiled(n):
        stmt = select(Change.record_id).where(among(Change.record_id, [str(i) for i in range(n)]))
        return stmt.compile(dialect=postgresql.psycopg.dialect())

    assert str(compiled(2)) == str(compiled(200))
    assert "= ANY(" in str(compiled(2))
    assert list(compiled(200).params.values()) == [[str(i) for i in range(200)]]
