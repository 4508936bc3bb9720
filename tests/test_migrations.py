"""The migrations build the same schema as the models, from an empty database."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from webapp import create_app
from webapp.core.schema_filters import include_object
from webapp.extensions import db


def test_upgrade_empty_sqlite_matches_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MEDIA_ROOT": str(tmp_path / "m")})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    engine = create_engine(url)
    with engine.connect() as conn:
        assert set(db.metadata.tables) <= set(inspect(conn).get_table_names())
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_object": include_object}), db.metadata)
    engine.dispose()
    assert diff == []


def test_schema_under_test_was_built_by_migrations(app):
    """The session schema (SQLite or PostgreSQL) came from `upgrade()`: it must match the models."""
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_object": include_object}), db.metadata)
    assert diff == []


def test_a_downgrade_and_upgrade_keep_the_full_text_triggers_on_sqlite(tmp_path):
    """0002's triggers keep findings_fts in step with findings; a later migration that rebuilds the
    findings table on SQLite (a batch operation) would drop them silently, and search would miss
    every finding written afterwards."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MEDIA_ROOT": str(tmp_path / "m")})
    triggers = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'findings' ORDER BY name"
    with app.app_context():
        upgrade()
        downgrade(revision="0002")
        upgrade()
        names = [row[0] for row in db.session.execute(text(triggers))]
        db.session.rollback()
        db.engine.dispose()
    assert names == ["findings_fts_ad", "findings_fts_ai", "findings_fts_au"]
