"""Full-text search on findings, per database (hand-written; 0001 is generated from the models).

SQLite: an FTS5 table with the trigram tokenizer (works for Chinese, which has no spaces) kept in
sync by triggers. PostgreSQL: pg_trgm and a GIN index on the searched text for ILIKE.
The objects are named in webapp/findings/search.py (HAND_MADE_*) so schema comparisons skip them.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# External content on the findings table's rowid: a search reads only rowids, which the list's
# query joins cheaply. XXX: VACUUM may renumber the rowids of a table without an INTEGER PRIMARY
# KEY; after a VACUUM run  INSERT INTO findings_fts(findings_fts) VALUES('rebuild').
SQLITE_UP = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS findings_fts USING fts5("
    "title, description, impact, content='findings', content_rowid='rowid', tokenize='trigram')",
    "INSERT INTO findings_fts (findings_fts) VALUES ('rebuild')",
    "CREATE TRIGGER IF NOT EXISTS findings_fts_ai AFTER INSERT ON findings BEGIN "
    "INSERT INTO findings_fts (rowid, title, description, impact) "
    "VALUES (new.rowid, new.title, new.description, new.impact); END",
    "CREATE TRIGGER IF NOT EXISTS findings_fts_ad AFTER DELETE ON findings BEGIN "
    "INSERT INTO findings_fts (findings_fts, rowid, title, description, impact) "
    "VALUES ('delete', old.rowid, old.title, old.description, old.impact); END",
    "CREATE TRIGGER IF NOT EXISTS findings_fts_au AFTER UPDATE OF title, description, impact ON findings BEGIN "
    "INSERT INTO findings_fts (findings_fts, rowid, title, description, impact) "
    "VALUES ('delete', old.rowid, old.title, old.description, old.impact); "
    "INSERT INTO findings_fts (rowid, title, description, impact) "
    "VALUES (new.rowid, new.title, new.description, new.impact); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS findings_fts_au",
    "DROP TRIGGER IF EXISTS findings_fts_ad",
    "DROP TRIGGER IF EXISTS findings_fts_ai",
    "DROP TABLE IF EXISTS findings_fts",
]
PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_findings_search_trgm ON findings USING gin "
    "((coalesce(title, '') || ' ' || coalesce(description, '') || ' ' || coalesce(impact, '')) gin_trgm_ops)",
]
PG_DOWN = ["DROP INDEX IF EXISTS ix_findings_search_trgm"]


def _run(statements):
    for sql in statements:
        op.execute(sql)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_UP)
    elif dialect == "postgresql":
        _run(PG_UP)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(PG_DOWN)
