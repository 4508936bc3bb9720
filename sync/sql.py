"""`among(column, values)`: `column IN (values)`, written for each database.

SQLAlchemy renders `IN` with one bound parameter per value. A push looks up its hundred records
that way several times, and psycopg caches the parsing of a statement only while it has at most 50
parameters: each such statement was parsed again on every execution (≈ 6 % of a push's CPU on
PostgreSQL). There `among` sends the values as one array, `column = ANY(%(values)s)` — one
parameter, the same statement text whatever the count, and the same index lookups. Other databases
get the plain `IN`.
"""

from sqlalchemy import Boolean, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
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
        self.plain = column.in_(values)
        self.array = bindparam(None, values, type_=ARRAY(column.type))


@compiles(among)
def _among_in(element, compiler, **kw):
    return compiler.process(element.plain, **kw)


@compiles(among, "postgresql")
def _among_any(element, compiler, **kw):
    return f"{compiler.process(element.column, **kw)} = ANY({compiler.process(element.array, **kw)})"
