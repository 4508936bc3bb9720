"""webapp/core/database.py: the planner statistics SQLite never gathers by itself, refreshed nightly
by the job queue (PostgreSQL's autovacuum keeps its own); how a transaction begins on SQLite."""

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from webapp.core.database import read_only, refresh_statistics, sqlite_reading
from webapp.extensions import db
from webapp.jobs import get_huey


def test_statistics_are_gathered_on_sqlite_only(app, world):
    gathered = refresh_statistics(db.session)
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        assert gathered
        tables = {row[0] for row in db.session.execute(text("SELECT tbl FROM sqlite_stat1"))}
        assert {"findings", "visits", "sites"} <= tables  # (an empty table gets no row)
    else:
        assert not gathered


def test_the_nightly_run_is_on_the_queues_schedule_and_runs(app, world, pinned_clock):
    huey = get_huey(app)
    pinned_clock.move_to(datetime(2026, 11, 20, 19, 29, 30, tzinfo=UTC))  # 03:29:30 Shanghai
    assert "database_statistics" not in {t.name for t in huey.read_periodic(huey._get_timestamp())}
    pinned_clock.move_to(datetime(2026, 11, 20, 19, 30, 10, tzinfo=UTC))
    due = {t.name: t for t in huey.read_periodic(huey._get_timestamp())}
    db.session.rollback()  # SQLite: the task's ANALYZE needs the writer lock
    huey.execute(due["database_statistics"])
    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(text("SELECT count(*) FROM sqlite_stat1")).scalar() > 0


def test_sqlite_reading_chooses_how_a_transaction_begins_and_restores_what_held(app, world):
    """`sqlite_reading()`: a transaction begun inside reads without SQLite's writer lock, one begun in
    `sqlite_reading(False)` takes it at BEGIN (a second writer waits, here fails at once); what held
    before comes back, after an error too."""
    db.session.commit()

    def other_writer_can_write() -> bool:
        path = db.engine.url.database
        conn = sqlite3.connect(path, timeout=0.05)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.rollback()
            return True
        except sqlite3.OperationalError as e:
            assert "locked" in str(e)
            return False
        finally:
            conn.close()

    assert read_only.get() is False
    with sqlite_reading():
        assert read_only.get() is True
        db.session.execute(text("SELECT count(*) FROM findings")).scalar()
        if db.engine.dialect.name == "sqlite":
            assert other_writer_can_write()  # a reader's BEGIN takes no lock
        db.session.rollback()
        with sqlite_reading(False):
            assert read_only.get() is False
            db.session.execute(text("SELECT count(*) FROM findings")).scalar()
            if db.engine.dialect.name == "sqlite":
                assert not other_writer_can_write()  # BEGIN IMMEDIATE: this transaction holds the lock
            db.session.rollback()
        assert read_only.get() is True
    assert read_only.get() is False
    with pytest.raises(ZeroDivisionError), sqlite_reading():
        1 / 0  # noqa: B018
    assert read_only.get() is False
