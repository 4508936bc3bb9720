"""Engine set-up per database.

SQLite (embedded default): WAL so readers never block the writer, a busy timeout, foreign keys, and
`BEGIN IMMEDIATE` for write requests. pysqlite's deferred BEGIN takes the write lock only at the
first write, and that upgrade fails at once with "database is locked" instead of waiting out the
busy timeout; taking the lock at BEGIN makes writers queue politely.

PostgreSQL (at scale): a custom plan for every run of a prepared statement, and INSERTs of many rows
by psycopg's pipelined executemany (see below).
"""

import contextvars
from contextlib import contextmanager

from sqlalchemy import event, text

from webapp.core.views import view_marked

read_only = contextvars.ContextVar("sqlite_read_only", default=False)


@contextmanager
def sqlite_reading(reading: bool = True):
    """Within it, a transaction this context begins on SQLite reads only (`BEGIN`: no writer lock)
    or, with `reading=False`, writes (`BEGIN IMMEDIATE`: takes the writer lock at once); what held
    before comes back after. No effect on PostgreSQL."""
    token = read_only.set(reading)
    try:
        yield
    finally:
        read_only.reset(token)


SQLITE_BUSY_MS = 30_000


def configure_engine(engine, *, pg_parallel_workers: int = 0) -> None:
    if engine.dialect.name == "postgresql":
        _configure_postgresql(engine, pg_parallel_workers)
        return
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


def _configure_postgresql(engine, parallel_workers: int) -> None:
    # An INSERT of many rows (the ORM's flush of new records, the revisions and feed rows of a
    # push) goes as psycopg's executemany: in pipeline mode, one round trip for all the rows, and
    # one short statement that psycopg parses once (cached). Not as multi-row INSERT … VALUES
    # (`use_insertmanyvalues_wo_returning`): a hundred rows make thousands of placeholders, which
    # psycopg parses anew every time (its cache stops at 50 parameters) — measured on the sync push
    # (docs/benchmarks.md), 1,240 → 1,600 mutations/s in process, for the same server time.
    engine.dialect.use_insertmanyvalues_wo_returning = False

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # psycopg prepares a statement on the server after its 5th run on a connection, and from the
        # 6th run of a prepared statement PostgreSQL may switch to a generic plan, blind to the
        # values. For the date windows of the dashboard and the lists that plan is several times
        # slower (a year's rectification rates: ≈ 90 ms → ≈ 350 ms from the 11th run on). Custom
        # plans for every run; statements stay prepared, so only the planning is repeated.
        with dbapi_conn.cursor() as cur:
            cur.execute("SET plan_cache_mode = force_custom_plan")
            # No parallel plans by default (PG_PARALLEL_WORKERS): the app serves many short requests
            # from a few cores, and a parallel plan takes the cores the other requests need — and must
            # start from a scan its workers can share. For a supervisor's filtered findings list at
            # 1M findings that was a sequential scan of every visit (71k rows) instead of the index of
            # their own 540: 31–51 ms → 12–18 ms (docs/benchmarks.md, "Findings list").
            cur.execute("SELECT set_config('max_parallel_workers_per_gather', %s, false)", (str(int(parallel_workers)),))
        dbapi_conn.commit()


# ---- write transactions that are run again -------------------------------------------------------

WRITE_ATTEMPTS = 3
RETRYABLE = {"40P01", "40001", "23505"}  # PostgreSQL: deadlock, serialization failure, unique violation


def reads_first(view):
    """Sign-in check and payload parsing read only; the write transaction (on SQLite the one
    writer lock, BEGIN IMMEDIATE) starts with `write_retrying`, so writers queue for less."""
    from functools import wraps

    @wraps(view)
    def wrapped(*args, **kwargs):
        with sqlite_reading():
            return view(*args, **kwargs)

    # Read by the hooks that run before the view and may be the first to read (the sign-in: see
    # `reads_first_view`), so that their reads do not take SQLite's writer lock either.
    wrapped.reads_first = True
    return wrapped


def reads_first_view(app, endpoint: str | None) -> bool:
    """Whether the view of `endpoint` is marked by `reads_first`."""
    return view_marked(app, endpoint, "reads_first")


def write_retrying(work, attempts: int = WRITE_ATTEMPTS):
    """End the reading transaction, then run `work()` and commit in a write transaction of its own.
    A deadlock with another writer, a serialization failure, or a create racing a copy of itself:
    nothing of the attempt is kept and `work()` runs again from the start. Any other error rolls
    back and propagates. Returns what `work()` returned."""
    from sqlalchemy.exc import DBAPIError

    from webapp.extensions import db

    db.session.commit()
    with sqlite_reading(False):
        for attempt in range(attempts):
            try:
                result = work()
                db.session.commit()
                return result
            except DBAPIError as e:
                db.session.rollback()
                if attempt == attempts - 1 or getattr(e.orig, "sqlstate", None) not in RETRYABLE:
                    raise
            except BaseException:
                db.session.rollback()
                raise


def refresh_statistics(session) -> bool:
    """The query planner's statistics, on SQLite, which never gathers them itself: without them it
    guesses, and at chain scale guesses wrong (the findings list's overdue marks walked every overdue
    rectification, 55 ms, instead of probing the page's 50 findings, 0.3 ms, at 1M findings). A full
    ANALYZE (≈ 4 s for 1M findings, holding the writer lock): a sampled one (`analysis_limit`)
    counted each index's first thousand entries and told a site (500 findings) from a content area
    (170,000) no better than by chance, so filtered lists walked the wrong index. Run nightly by the
    job queue and after the seed commands. PostgreSQL's autovacuum keeps its own: nothing to do.
    Never commits. True if statistics were gathered."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    session.execute(text("ANALYZE"))
    return True
