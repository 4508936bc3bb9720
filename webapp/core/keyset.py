"""Lists a page at a time ("Load more"): where the next page starts is the last row shown, written in
the link as a cursor, and the next page is the rows after it in the list's order — a keyset, not an
offset, so a page is as fast a thousand rows deep as at the top and a row written meanwhile is
neither skipped nor shown twice.

`page(walks, cursor, limit)` reads a page of a list made of one or more walks, each a query read in
the order of its keys — e.g. the rows with a day by day, then those without one — and returns the
rows and the cursor of the next page. `after(keys, values)` is the condition "after this row" for an
order of several columns, each ascending or descending; `write_cursor` / `read_cursor` put the row's
values in a link and read them back, by kind: a day (`date`), a moment (`moment`, UTC to the
microsecond), an id (`id`, a UUID). A cursor that does not read — hand-edited, cut, hostile — is
the first page, never an error.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, or_

from webapp.extensions import db

_KINDS = {
    "date": (re.compile(r"\d{8}"), lambda v: v.strftime("%Y%m%d"), lambda s: datetime.strptime(s, "%Y%m%d").date()),
    "moment": (re.compile(r"\d{8}T\d{12}"), lambda v: v.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f"),
               lambda s: datetime.strptime(s, "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)),
    "id": (re.compile(r"[0-9a-f-]{1,36}"), str, str),
}


def after(keys, values):
    """Rows after the one with `values`, in the order of `keys` — (column, descending) pairs, the
    last one unique: (k1 past v1) OR (k1 = v1 AND ((k2 past v2) OR (k2 = v2 AND …)))."""
    condition = None
    for (column, descending), value in reversed(list(zip(keys, values, strict=True))):
        past = column < value if descending else column > value
        condition = past if condition is None else or_(past, and_(column == value, condition))
    return condition


def write_cursor(tag: str, kinds, values) -> str:
    """`tag` (a letter or nothing: which walk of a list the row is in) and the row's values."""
    return tag + "_".join(_KINDS[kind][1](value) for kind, value in zip(kinds, values, strict=True))


def read_cursor(cursor: str | None, tag: str, kinds) -> tuple | None:
    """The values written by `write_cursor(tag, kinds, …)`, or None when `cursor` is not one."""
    if not cursor or not cursor.startswith(tag):
        return None
    parts = cursor[len(tag):].split("_")
    if len(parts) != len(kinds) or not all(_KINDS[k][0].fullmatch(p) for k, p in zip(kinds, parts, strict=True)):
        return None
    try:
        return tuple(_KINDS[k][2](p) for k, p in zip(kinds, parts, strict=True))
    except ValueError:  # 20261399
        return None


@dataclass
class Walk:
    """One part of a list: `query` (filtered, not ordered or limited) read in the order of `keys`
    ((column, descending) pairs, the last unique); `fetch` runs a statement and gives the rows (by
    default the records it selects); `values` gives a row's values of the keys, of `kinds`, for the
    cursor tagged `tag` (by default the row's attributes named as the keys' columns)."""

    tag: str
    query: object
    keys: tuple
    kinds: tuple
    fetch: Callable | None = None
    values: Callable | None = None

    def rows(self, statement) -> list:
        return self.fetch(statement) if self.fetch else db.session.scalars(statement).all()

    def values_of(self, row) -> tuple:
        return self.values(row) if self.values else tuple(getattr(row, column.key) for column, _ in self.keys)


def page(walks: list[Walk], cursor: str | None, limit: int) -> tuple[list, str | None]:
    """A page of the list the walks make, one after the other: after the cursor's row in its walk,
    then the walks after it from their start; the first page for no cursor or one that does not
    read. Returns (rows, the next page's cursor or None)."""
    start, position = 0, None
    for i, walk in enumerate(walks):
        if (position := read_cursor(cursor, walk.tag, walk.kinds)) is not None:
            start = i
            break
    rows = []
    for walk in walks[start:]:
        if len(rows) > limit:
            break
        query = walk.query
        if position is not None and walk is walks[start]:
            query = query.where(after(walk.keys, position))
        query = query.order_by(*(column.desc() if descending else column for column, descending in walk.keys))
        rows += [(walk, row) for row in walk.rows(query.limit(limit + 1 - len(rows)))]
    if len(rows) <= limit:
        return [row for _walk, row in rows], None
    walk, last = rows[limit - 1]
    return [row for _walk, row in rows[:limit]], write_cursor(walk.tag, walk.kinds, walk.values_of(last))
