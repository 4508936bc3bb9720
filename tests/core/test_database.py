"""webapp/core/database.py: the planner statistics SQLite never gathers by itself, refreshed nightly
by the job queue (PostgreSQL's autovacuum keeps its own)."""

from datetime import UTC, datetime

from sqlalchemy import text

from webapp.core.database import refresh_statistics
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
