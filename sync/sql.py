"""`among(column, values)`: `column IN (values)`, written for each database. `insert_rows(bind, table,
rows)`: many rows inserted at once — on PostgreSQL by COPY; `insert_numbered(bind, table, rows)` the
same for rows the database numbers, returning their numbers.

SQLAlchemy renders `IN` with one bound parameter per value. A push looks up its hundred records
that way several times, and psycopg caches the parsing of a statement only while it has at most 50
parameters: each such statement was parsed again on every execution (≈ 6 % of a push's CPU on
PostgreSQL). There `among` sends the values as one array, `column = ANY(%(values)s)` — one
parameter, the same statement text whatever the count, and the same index lookups. Other databases
get the plain `IN`.

A push keeps three or four rows per mutation besides the record itself (its revision, its row in the
change feed, its entry in the mutation log, the evidence of a new record). Sent as one executemany,
psycopg pipelines an INSERT per row and reads a result for each: ≈ 26 µs of Python and 17 µs of
PostgreSQL per row. The same rows through COPY: ≈ 13 µs and 11 µs (docs/benchmarks.md, "Sync push").
"""

from sqlalchemy import Boolean, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class among(ColumnElement):  # noqa: N801 (used like the function `in_` it stands for)
    """`column` is one of `values` (a non-empty iterable of the column's Python values)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a comparison already: no "= 1" after it where booleans are integers
    _traverse_internals = [("plain", InternalTraversal.dp_clauseelement),
                           ("column", InternalTraversal.dp_clauseelement),
                           ("array", InternalTraversal.dp_clauseelement)]

    def __init__(self, column, values):
        values = list(values)
        self.column = column
        # One expanding parameter (what `in_(values)` builds after coercing each value in Python).
        self.plain = column.in_(bindparam(None, values, expanding=True, type_=column.type))
        self.array = bindparam(None, values, type_=ARRAY(column.type))


@compiles(among)
def _among_in(element, compiler, **kw):
    return compiler.process(element.plain, **kw)


@compiles(among, "postgresql")
def _among_any(element, compiler, **kw):
    return f"{compiler.process(element.column, **kw)} = ANY({compiler.process(element.array, **kw)})"


COPY_FROM = 10  # rows: fewer go as one executemany (COPY takes a round trip more to start)


def insert_rows(bind, table, rows: list[dict]) -> None:
    """INSERT `rows` (dicts with the same keys) into `table`, nothing returned, in the transaction of
    `bind` (a Session or a Connection). On PostgreSQL by COPY: each value through its
    column type's bind processing, as SQLAlchemy would send it; a failure raises the same SQLAlchemy
    error an INSERT would. Where a column left out has a default computed in Python, as a plain
    executemany (COPY cannot run it)."""
    if not rows:
        return
    connection = bind if isinstance(bind, Connection) else bind.connection()
    dialect = connection.dialect
    keys = tuple(rows[0])
    plan = _copy_plan(table, dialect, keys) if dialect.name == "postgresql" and len(rows) >= COPY_FROM else None
    if plan is None:
        connection.execute(insert(table), rows)
        return
    names, processors = plan
    statement = f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN"
    raw = connection.connection.driver_connection
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([process(row[key]) if process else row[key] for key, process in processors])
    except dialect.loaded_dbapi.Error as e:
        raise DBAPIError.instance(statement, None, e, dialect.loaded_dbapi.Error, dialect=dialect) from e


def insert_numbered(bind, table, rows: list[dict], column: str = "id") -> list[int]:
    """INSERT `rows` like `insert_rows` into a table whose `column` is numbered by the database,
    and return the numbers given, in the order of `rows`. On PostgreSQL the numbers are taken from
    the column's sequence in one query and the rows go by COPY: the multi-row `INSERT … RETURNING`
    that SQLAlchemy would send instead has one parameter per value, a statement text psycopg
    parses afresh each time (≈ 8 ms for 50 rows of 16 columns). Elsewhere that `INSERT … RETURNING`."""
    if not rows:
        return []
    connection = bind if isinstance(bind, Connection) else bind.connection()
    if connection.dialect.name != "postgresql":
        returning = insert(table).returning(table.c[column], sort_by_parameter_order=True)
        return list(connection.scalars(returning, rows))
    sequence = func.pg_get_serial_sequence(table.name, column)
    numbers = list(connection.scalars(select(func.nextval(sequence)).select_from(
        func.generate_series(1, len(rows)))))
    insert_rows(connection, table, [{**row, column: number} for row, number in zip(rows, numbers, strict=True)])
    return numbers


_plans: dict = {}


def _copy_plan(table, dialect, keys: tuple) -> tuple[str, list] | None:
    """The column list of the COPY and, per key, its column type's bind processor (or None); None
    where a column left out has a default computed in Python (COPY cannot run it)."""
    key = (table, dialect, keys)
    if key in _plans:
        return _plans[key]
    plan = None
    if not any(c.default is not None for c in table.columns if c.key not in keys):
        preparer = dialect.identifier_preparer
        columns = [table.columns[k] for k in keys]
        plan = (", ".join(preparer.format_column(c) for c in columns),
                [(c.key, c.type.dialect_impl(dialect).bind_processor(dialect)) for c in columns])
    _plans[key] = plan
    return plan
