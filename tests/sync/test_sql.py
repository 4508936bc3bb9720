"""sync/sql.py: among() selects what `in_` selects, on the test database (SQLite or PostgreSQL),
and on PostgreSQL sends the values as one parameter whatever their number; insert_rows() stores what
an INSERT stores and fails as it fails (on PostgreSQL through COPY); insert_numbered() returns the
numbers the database gave, in the order of the rows."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import String, cast, delete, event, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from sync.sql import COPY_FROM, among, insert_numbered, insert_rows
from webapp.extensions import db
from webapp.sync_store.models import AppliedMutation, Change, Conflict


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


def _conflict_rows(count: int, mutation: str) -> list[dict]:
    shanghai = timezone(timedelta(hours=8))
    hostile = "=SUM(A1)\t制表\n换行 \\ 反斜杠 \"引号\" 'single' \\N"
    return [{"entity": "finding", "record_id": str(uuid.uuid4()), "field": f"{n:03d}=1+1\t制\n\\ \"q\" \\N",
             "base": None if n % 2 else {"text": hostile, "n": n},
             "server": [hostile, n, 1.5, True], "client": "问题" * n, "mutation_id": mutation,
             "user_id": None, "device_id": str(uuid.UUID(int=n + 1)),
             "client_time": None if n % 3 == 0 else datetime(2026, 11, 20, 10, n, tzinfo=shanghai),
             "created_at": datetime(2026, 11, 20, 2, 0, tzinfo=UTC), "status": "open",
             "resolved_by": None, "resolved_at": None, "resolution": None, "department_id": None,
             "supervisor_id": None} for n in range(count)]


def _stored(mutation: str) -> list[tuple]:
    c = Conflict.__table__.c
    return [tuple(row) for row in db.session.execute(
        select(c.field, cast(c.base, String), cast(c.server, String), cast(c.client, String), c.device_id,
               c.client_time, c.created_at, c.status, c.resolution.is_(None), c.department_id)
        .where(c.mutation_id == mutation).order_by(c.field))]


@pytest.mark.parametrize("count", [3, COPY_FROM, 60])
def test_insert_rows_stores_what_an_insert_stores(app, count):
    """Below COPY_FROM rows an executemany; from it on PostgreSQL, COPY: the same rows stored either way
    (JSON null and SQL NULL, zones, tabs, newlines, backslashes, `\\N`, Chinese, formulas)."""
    by_insert, by_rows = str(uuid.uuid4()), str(uuid.uuid4())
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        db.session.execute(insert(Conflict.__table__), _conflict_rows(count, by_insert))
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            insert_rows(db.session, Conflict.__table__, _conflict_rows(count, by_rows))
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        db.session.commit()
        stored = _stored(by_rows)
        assert len(stored) == count
        assert stored == _stored(by_insert)
        as_insert = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
        copied = db.engine.dialect.name == "postgresql" and count >= COPY_FROM
        assert len(as_insert) == (0 if copied else 1)


def test_insert_rows_fills_python_defaults_it_was_not_given(app):
    """A left-out column whose default is computed in Python gets it (COPY could not: sent as INSERT)."""
    ids = [str(uuid.uuid4()) for _ in range(COPY_FROM + 5)]
    with app.app_context():
        insert_rows(db.session, Change.__table__, [{"entity": "finding", "record_id": rid, "version": 1} for rid in ids])
        db.session.commit()
        rows = db.session.execute(select(Change.deleted, Change.changed_at).where(among(Change.record_id, ids))).all()
        assert len(rows) == len(ids)
        assert all(deleted is False and changed_at is not None for deleted, changed_at in rows)


def test_insert_rows_fails_as_an_insert_fails_and_keeps_what_was_saved(app):
    """A constraint broken inside COPY raises SQLAlchemy's IntegrityError (the push's fallback catches
    SQLAlchemy errors), the savepoint rolls back, and the transaction's earlier rows stay."""
    now = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)

    def log(mutation_id):
        return {"mutation_id": mutation_id, "device_id": None, "user_id": None, "entity": "finding",
                "record_id": str(uuid.uuid4()), "result": {"status": "applied"}, "applied_at": now}

    first = [log(str(uuid.uuid4())) for _ in range(COPY_FROM)]
    with app.app_context():
        insert_rows(db.session, AppliedMutation.__table__, first)
        again = [log(str(uuid.uuid4())) for _ in range(COPY_FROM)] + [log(first[0]["mutation_id"])]
        with pytest.raises(IntegrityError), db.session.begin_nested():
            insert_rows(db.session, AppliedMutation.__table__, again)
        db.session.commit()
        kept = set(db.session.scalars(select(AppliedMutation.mutation_id)))
        assert kept == {row["mutation_id"] for row in first}


@pytest.mark.parametrize("count", [1, COPY_FROM + 3])
def test_insert_numbered_returns_each_rows_number(app, count):
    """Each returned number is the stored row's own (by its field), new, and the numbering goes on
    after them: a row inserted later by the ORM gets a number none of them has."""
    mutation = str(uuid.uuid4())
    rows = _conflict_rows(count, mutation)
    with app.app_context():
        before = db.session.scalar(select(db.func.max(Conflict.id))) or 0
        numbers = insert_numbered(db.session, Conflict.__table__, rows)
        db.session.commit()
        assert len(numbers) == count == len(set(numbers))
        assert all(n > before for n in numbers)
        stored = dict(db.session.execute(select(Conflict.id, Conflict.field).where(Conflict.mutation_id == mutation)).all())
        assert [stored[n] for n in numbers] == [row["field"] for row in rows]
        later = Conflict(**_conflict_rows(1, str(uuid.uuid4()))[0])
        db.session.add(later)
        db.session.commit()
        assert later.id not in numbers
        assert insert_numbered(db.session, Conflict.__table__, []) == []
