"""Engine set-up per database.

SQLite (embedded default): WAL so readers never block the writer, a busy timeout, foreign keys, and
`BEGIN IMMEDIATE` for write requests. pysqlite's deferred BEGIN takes the write lock only at the
first write, and that upgrade fails at once with "database is locked" instead of waiting out the
busy timeout; taking the lock at BEGIN makes writers queue politely.
"""

import contextvars

from sqlalchemy import event

read_only = contextvars.ContextVar("sqlite_read_only", default=False)

SQLITE_BUSY_MS = 30_000


def configure_engine(engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN" if read_only.get() else "BEGIN IMMEDIATE")
