"""The findings list at 100,000 rows: filters that use indexes, full-text search that works for
Chinese, and keyset pagination (captured_at, id) — no OFFSET, no COUNT.

Full-text search:
- SQLite: an FTS5 table with the trigram tokenizer (`findings_fts`), kept in sync by triggers
  (migration 0002). Trigrams need at least 3 characters; 1–2 character queries (common in
  Chinese: 消防, 签字) fall back to LIKE.
- PostgreSQL: a pg_trgm GIN index on the same text expression, queried with ILIKE.
"""

from datetime import date, datetime, time, timedelta

from sqlalchemy import Integer, and_, bindparam, func, literal_column, or_, select, text

from webapp.authz import narrow_scope, scoped
from webapp.core import keyset
from webapp.core.clock import company_today, company_tz_name, company_zone
from webapp.extensions import db
from webapp.findings.models import SEVERITIES, Finding
from webapp.rectification import outcomes
from webapp.rectification.deadlines import overdue_findings
from webapp.rectification.models import Rectification

PAGE_SIZE = 50
# The indexed expression of migration 0002 (PostgreSQL): the query must repeat it exactly.
PG_SEARCH_EXPR = ("(coalesce(findings.title, '') || ' ' || coalesce(findings.description, '') || ' ' "
                  "|| coalesce(findings.impact, ''))")
# Objects made by hand in migration 0002 that the models do not declare.
HAND_MADE_TABLES = ("findings_fts",)
HAND_MADE_INDEXES = ("ix_findings_search_trgm",)


FEW_MATCHES = 5_000  # SQLite full-text search: below this many matches the list starts from them
RECENT_WINDOW, RECENT_WINDOW_MAX = 20_000, 300_000  # … above it, a page is looked for among the newest rows first
FTS_FROM = bindparam("fts_from", 0, type_=Integer)  # the lowest rowid a search's set of matches is built from


def _like_escape(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(q: str):
    pattern = f"%{_like_escape(q)}%"
    return or_(Finding.title.like(pattern, escape="\\"), Finding.description.like(pattern, escape="\\"),
               Finding.impact.like(pattern, escape="\\"))


def search_clause(q: str, dialect: str, narrow: bool = False):
    """(the WHERE clause, whether it is bounded by FTS_FROM: a page looks among the newest rows first).
    `narrow`: the query is within a narrow scope (authz.narrow_scope), which SQLite reads whole."""
    q = q.strip()
    if dialect == "postgresql":
        return literal_column(PG_SEARCH_EXPR).ilike(f"%{_like_escape(q)}%", escape="\\"), False
    if len(q) >= 3:
        phrase = '"' + q.replace('"', '""') + '"'
        matches = (select(literal_column("rowid")).select_from(text("findings_fts"))
                   .where(text("findings_fts MATCH :fts_q").bindparams(fts_q=phrase)))
        # Few matches (a number, a rare word): fetch them and sort — walking would read the whole
        # table to find that nothing more matches (88 ms at 1M findings for no match; 0.1 ms to count).
        few = db.session.scalar(select(func.count()).select_from(matches.limit(FEW_MATCHES).subquery()))
        if few < FEW_MATCHES:
            return literal_column("findings.rowid").in_(matches), False
        if narrow:
            # A supervisor's few thousand findings are read and sorted whole anyway: checking each
            # (≈ 9 ms for 7,600 at 1M findings) costs less than building the set of every match in
            # the company (36–50 ms for a phrase in 190,000 findings). Same rows: the trigram
            # phrase matches where the text contains it, as LIKE does.
            return _like(q), False
        # Many: "+rowid" keeps SQLite walking the (captured_at, id) index newest first and probing
        # the set of matches; a page stops after 50 hits. Building the whole set is what costs (every
        # match: 190 ms for a phrase in every finding at 1M), so a page first bounds it to the rows
        # from FTS_FROM on (_recent_first); anything else (an export) reads it whole (FTS_FROM = 0).
        return literal_column("+findings.rowid").in_(matches.where(literal_column("rowid") >= FTS_FROM)), True
    return _like(q), False


def _local_midnight(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=company_zone())


def rectification_clause(outcome: str, today: date):
    """The rectifications in one of the outcome sets of FindingListArgs.rectification."""
    tz = company_tz_name()
    return {"due": lambda: outcomes.is_due_clause(today), "on_time": lambda: outcomes.accepted_on_time_clause(tz),
            "decided": outcomes.acceptance_decided_clause,
            "first_round": outcomes.accepted_first_round_clause}[outcome]()


def filtered(user, args: dict, dialect: str, today: date | None = None):
    """select(Finding) in the user's scope with the list's filters applied (no order, no limit)."""
    q = scoped(Finding, user).where(Finding.deleted_at.is_(None))
    for key, col in (("department_id", Finding.department_id), ("site_id", Finding.site_id),
                     ("area", Finding.area), ("item_id", Finding.item_id), ("severity", Finding.severity),
                     ("status", Finding.status), ("supervisor_id", Finding.supervisor_id)):
        if args.get(key):
            q = q.where(col == args[key])
    if args.get("min_severity"):
        q = q.where(Finding.severity.in_(SEVERITIES[SEVERITIES.index(args["min_severity"]):]))
    if args.get("rectification"):
        q = q.where(select(Rectification.id).where(
            Rectification.finding_id == Finding.id,
            rectification_clause(args["rectification"], today or company_today())).exists())
    if args.get("date_from"):
        q = q.where(Finding.captured_at >= _local_midnight(args["date_from"]))
    if args.get("date_to"):
        q = q.where(Finding.captured_at < _local_midnight(args["date_to"] + timedelta(days=1)))
    if args.get("overdue"):
        q = q.where(overdue_findings(today or company_today()))
    if args.get("conflict"):
        q = q.where(Finding.has_conflict.is_(True))
    if args.get("repeat"):
        q = q.where(Finding.repeat_of_id.is_not(None))
    if args.get("q") and args["q"].strip():
        clause, bounded = search_clause(args["q"], dialect, narrow=narrow_scope(Finding, user))
        q = q.where(clause)
        if bounded:
            q = q.execution_options(recent_first=True)
    if sorts_whole_scope(user, args, dialect):
        q = q.execution_options(whole_scope=True)
    return q


NEWEST_FIRST = ((Finding.captured_at, True), (Finding.id, True))  # the list's order, the last key unique
_CURSOR = ("moment", "id")


def encode_cursor(f: Finding) -> str:
    return keyset.write_cursor("", _CURSOR, (f.captured_at, f.id))


_NARROWING = ("department_id", "site_id", "area", "item_id", "severity", "status", "supervisor_id", "min_severity",
              "rectification", "date_from", "date_to", "overdue", "conflict", "repeat", "q")


def sorts_whole_scope(user, args: dict, dialect: str) -> bool:
    """Whether a page should fetch the user's whole (small) scope and sort it, rather than walk the
    table newest first: on PostgreSQL, for a narrow scope (a supervisor's own visits, ≈ 0.75 % of a
    chain's findings) with a filter or a search. Walking probes ~130 rows per row in scope, and
    thousands more per hit of a selective filter (a search: 33,000 rows, 40 ms at 1M); fetching the
    scope costs the same whatever the filter (≈ 15–18 ms at 1M; docs/benchmarks.md). Without a
    filter the walk stops early (5 ms) and is kept. SQLite's planner already starts from the owner's
    visits. Planning only: the rows are the same (tests/findings/test_search.py)."""
    return dialect == "postgresql" and narrow_scope(Finding, user) and any(args.get(k) for k in _NARROWING)


def _after(cursor: str | None) -> list:
    """The keyset condition: rows after the cursor's (captured_at, id), newest first."""
    pos = keyset.read_cursor(cursor, "", _CURSOR)
    return [keyset.after(NEWEST_FIRST, pos)] if pos else []


def _recent_first(query, cursor: str | None, limit: int):
    """A SQLite search with many matches: look for the page among the newest RECENT_WINDOW rows
    (after the cursor) first, with the set of matches built only from the lowest rowid among them
    (FTS5 seeks to it). Every row of the window has a rowid at least that low, so within the window
    the set is exact; the window is a prefix of the list's order; so if the page fills inside it,
    it is the page. If it does not, once more with a window sized by the hits the first one had
    (a search with filters is sparser), then (None) the whole set. ≈ 5–15 ms instead of 55–190 ms
    for a common phrase at 1M findings (docs/benchmarks.md)."""
    order = (Finding.captured_at.desc(), Finding.id.desc())
    rowid = literal_column("findings.rowid")
    window = RECENT_WINDOW
    for _attempt in range(2):
        newest = select(Finding.captured_at, Finding.id, rowid.label("r")).where(*_after(cursor)).order_by(*order) \
            .limit(window).subquery()
        edge = db.session.execute(select(newest.c.captured_at, newest.c.id).order_by(
            newest.c.captured_at, newest.c.id).limit(1)).first()
        if edge is None:
            return None
        low = db.session.scalar(select(func.min(newest.c.r)))
        rows = db.session.scalars(query.where(or_(Finding.captured_at > edge[0], and_(
            Finding.captured_at == edge[0], Finding.id >= edge[1]))).params(fts_from=low)).all()
        if len(rows) > limit:
            return rows
        if not rows or window >= RECENT_WINDOW_MAX:
            return None
        window = min(RECENT_WINDOW_MAX, int(window * (limit + 1) / len(rows) * 1.5))
    return None


def page(query, cursor: str | None, limit: int = PAGE_SIZE):
    """One keyset page, newest first; returns (rows, next_cursor or None). The plan follows the hints
    `filtered` put on the query: `whole_scope` orders by an expression no index serves, so the planner
    fetches the (narrow) scope and sorts it (sorts_whole_scope); `recent_first` looks for a search's
    page among the newest rows first (_recent_first)."""
    hints = query.get_execution_options()
    query = query.where(*_after(cursor))
    # the same value through a function: no index serves the order, so none is walked
    newest = func.coalesce(Finding.captured_at, Finding.captured_at) if hints.get("whole_scope") else Finding.captured_at
    query = query.order_by(newest.desc(), Finding.id.desc()).limit(limit + 1)
    rows = _recent_first(query, cursor, limit) if hints.get("recent_first") else None
    if rows is None:
        rows = db.session.scalars(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1]) if more and rows else None)
