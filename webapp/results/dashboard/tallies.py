"""The dashboard's tallies (webapp/results/dashboard/models.py): kept with the writes, read by the
dashboard instead of re-aggregating a million raw rows on every page.

Only confirmed findings count (`Finding.counted()`, docs/review.md): a finding awaiting review,
rejected or merged is in no tally, exactly as the raw measures leave it out; a review act changes
`review_status`, which is one of the fields that trigger a recount.

Why the figures stay equal to the raw data: a tally row is never adjusted by a delta. After every
flush that creates, changes or deletes a finding or a rectification — whatever the path: a form, an
operation, the sync push, a merge, a review, a soft or hard delete — the (local day, site) partitions the
changed rows were in before and are in now are recounted from the raw rows, in the same transaction:
each flush notes the partitions it touched (`_after_flush`), and they are recounted once, right
before the transaction commits (`_before_commit`) — a push of many findings into one visit's
partition recounts it once, not once per flush. A finding that was in no tally before a flush
and is in none after it (awaiting review, rejected, merged or deleted throughout) changes no tally
row, so it is not noted: a phone's push of new findings, which await review, recounts nothing and
takes no partition lock (nor writes a tally epoch). On PostgreSQL each partition's recount runs under a
transaction-scoped advisory lock of that partition (taken in key order, before the change feed's
lock), so two transactions writing the same partition recount it one after the other, the second
seeing the first's committed rows: a recount under READ COMMITTED never counts a partition from a
snapshot that misses a concurrent writer's rows, nor leaves both writers' tally rows behind. The
lock is held only from the recount to COMMIT. A partition is one site's findings of one day (a
visit's worth), read through `ix_findings_site_captured`. `rebuild()` (`flask aggregates rebuild`)
recounts everything, for bulk loads that bypass the ORM (`flask seed-scale`) or a changed time zone.

The read functions below have the signatures of their raw twins in measures.py and return the same
values (tests/results/dashboard/test_tallies.py recomputes and compares after random writes). They
serve a user who sees everything (the dashboard's managers) and filters on department, site, area or
checklist item; anything else (`serves()` is False) is answered from the raw rows by measures.py.
"""

from datetime import date, timedelta

from sqlalchemy import (
    Date,
    and_,
    bindparam,
    case,
    delete,
    event,
    func,
    insert,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import NO_VALUE, get_history, instance_state

from webapp.authz import EVERYTHING
from webapp.core.clock import company_tz_name as _tz
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.rectification import outcomes
from webapp.rectification.models import Rectification
from webapp.results.dashboard import measures as m
from webapp.results.dashboard.models import FindingTally, RectificationTally, SiteDayTally, TallyEpoch
from webapp.results.periods import local_date, local_day
from webapp.sync_store.tracking import lock_feed

FT, RT, ST = FindingTally, RectificationTally, SiteDayTally
_FINDING_FIELDS = ("captured_at", "site_id", "department_id", "area", "item_id", "severity", "repeat_of_id",
                   "deleted_at", "review_status")
_RECT_FIELDS = ("finding_id", "status", "round", "deadline", "accepted_at")


# ---- how a tally row is counted from the raw rows (one definition for the recount and the rebuild) ----

def _finding_select(day):
    dims = (Finding.department_id, Finding.site_id, Finding.item_id, Finding.area, Finding.severity)
    return select(day, *dims, func.count(), func.count(Finding.repeat_of_id)).group_by(*dims)


def _site_select(day):
    dims = (Finding.department_id, Finding.site_id)
    return select(day, *dims, func.count(), m._count_if(Finding.severity.in_(m.SEVERE)),
                  func.count(Finding.repeat_of_id)).group_by(*dims)


def _state():
    return case((Rectification.status == "accepted", "accepted"), (Rectification.status == "rectifying", "rectifying"),
                else_="waiting")


def _rect_select(day, tz):
    deadline = case((Rectification.status == "accepted", null()), else_=Rectification.deadline)
    dims = (Finding.department_id, Finding.site_id, _state(), deadline)
    return (select(day, *dims, func.count(), m._count_if(outcomes.accepted_on_time_clause(tz)),
                   m._count_if(outcomes.accepted_first_round_clause()), m._count_if(outcomes.acceptance_decided_clause()))
            .select_from(Finding).join(Rectification, Rectification.finding_id == Finding.id).group_by(*dims))


_FT_COLS = ["day", "department_id", "site_id", "item_id", "area", "severity", "findings", "repeats"]
_ST_COLS = ["day", "department_id", "site_id", "findings", "severe", "repeats"]
_RT_COLS = ["day", "department_id", "site_id", "state", "deadline", "rectifications", "on_time", "first_round",
            "decided"]


def rebuild_statements(tz: str, reviewed: bool = True) -> list:
    """Empty the tallies and count them again from the raw rows (also the migration's fill).
    `reviewed=False` only for migration 0119, which runs before findings had a review status (0120)."""
    day = local_day(Finding.captured_at, tz)
    # not deleted, confirmed in review (the raw measures' rule)
    live = Finding.counted() if reviewed else Finding.deleted_at.is_(None)
    return [delete(FT), delete(ST), delete(RT),
            insert(FT).from_select(_FT_COLS, _finding_select(day).where(live).group_by(day)),
            insert(ST).from_select(_ST_COLS, _site_select(day).where(live).group_by(day)),
            insert(RT).from_select(_RT_COLS, _rect_select(day, tz).where(live).group_by(day))]


def rebuild(tz: str | None = None) -> tuple[int, int]:
    """Recount every tally from the raw rows (flushes, never commits). (finding rows, rectification rows)."""
    session = db.session
    session.flush()
    for stmt in rebuild_statements(tz or _tz()):
        session.execute(stmt)
    session.info[RECOUNTED] = True  # an epoch at commit: every dashboard snapshot is behind now
    return tuple(session.scalar(select(func.count()).select_from(t)) for t in (FT, RT))


_RECOUNT: dict = {}  # (tz, whether the site is NULL) → the statements, built once (bound per partition)


def _recount_statements(tz: str, null_site: bool) -> list:
    key = (tz, null_site)
    if key not in _RECOUNT:
        day_ = bindparam("day", type_=Date)
        where = [Finding.site_id.is_(None) if null_site else Finding.site_id == bindparam("site"),
                 Finding.captured_at >= bindparam("start"), Finding.captured_at < bindparam("end"),
                 Finding.counted()]
        stmts = []
        for table, select_, cols in ((FT, _finding_select(day_), _FT_COLS), (ST, _site_select(day_), _ST_COLS),
                                     (RT, _rect_select(day_, tz), _RT_COLS)):
            site_is = table.site_id.is_(None) if null_site else table.site_id == bindparam("site")
            stmts.append(delete(table).where(table.day == bindparam("day", type_=Date), site_is))
            stmts.append(insert(table).from_select(cols, select_.where(*where)))
        _RECOUNT[key] = stmts
    return _RECOUNT[key]


def _recount(conn, parts: set[tuple[date, str | None]], tz: str) -> None:
    for day, site in sorted(parts, key=lambda p: (p[0], p[1] or "")):
        start, end = m.Window(day, day + timedelta(days=1)).bounds(tz)
        params = {"day": day, "start": start, "end": end}
        if site is not None:
            params["site"] = site
        for stmt in _recount_statements(tz, site is None):
            conn.execute(stmt, params)


# ---- maintenance: every flush that touches findings or rectifications -------------------------------

def _changed(obj, fields) -> bool:
    # Only attributes set since the row was loaded can have changed (their old values are kept in
    # committed_state); history then tells whether the value really differs. Cheaper than building
    # every attribute's state (`inspect(obj).attrs`) for each row of a push.
    touched = instance_state(obj).committed_state
    return any(name in touched and get_history(obj, name).has_changes() for name in fields)


_UNKNOWN = object()


def _stored(obj, name):
    """The value as stored before this flush (kept in committed_state when it was changed, a None
    included), or _UNKNOWN when it was never loaded."""
    state = instance_state(obj)
    if name in state.committed_state:
        old = state.committed_state[name]
        return _UNKNOWN if old is NO_VALUE else old
    return state.dict.get(name, _UNKNOWN)


def _before(obj, name):
    """The value as it was before this flush (for a row that moves out of its partition)."""
    value = _stored(obj, name)
    return instance_state(obj).dict.get(name) if value is _UNKNOWN else value


def _counted_before(obj) -> bool:
    """Whether the finding was in a tally before this flush (`Finding.counted()`, as stored); when
    that is not known, as if it was."""
    deleted, status = _stored(obj, "deleted_at"), _stored(obj, "review_status")
    if deleted is _UNKNOWN or status is _UNKNOWN:
        return True
    return Finding.counts(deleted, status)


def _counted_now(obj) -> bool:
    return Finding.counts(obj.deleted_at, obj.review_status)


RECOUNTED = "tally_recounted"  # session.info: this transaction recounted partitions (an epoch is due)
PENDING = "tally_pending"  # session.info: ({(day, site)} left, {finding id} whose partition is counted at commit)
TALLY_LOCK_SPACE = 0x7A11  # first key of the two-key advisory locks: "a tally partition"


def _unknown_before(obj, names) -> bool:
    return any(_stored(obj, name) is _UNKNOWN for name in names)


def _before_flush(session: Session, _ctx, _instances) -> None:
    """A row changed or deleted without its old values loaded (set on an expired instance): the
    partition it is stored in, read before this flush writes over it — `_after_flush` cannot know it."""
    findings, rects = [], []
    for group, deleted in ((session.dirty, False), (session.deleted, True)):
        for obj in group:
            if isinstance(obj, Finding) and (deleted or _changed(obj, _FINDING_FIELDS)) \
                    and _unknown_before(obj, ("captured_at", "site_id", "deleted_at", "review_status")):
                findings.append(obj.id)
            elif isinstance(obj, Rectification) and (deleted or _changed(obj, _RECT_FIELDS)) \
                    and _unknown_before(obj, ("finding_id",)):
                rects.append(obj.id)
    if not findings and not rects:
        return
    tz, parts, finding_ids = _tz(), set(), set()
    if rects:
        finding_ids.update(session.scalars(select(Rectification.finding_id).where(Rectification.id.in_(rects))))
    if findings:
        rows = session.execute(select(Finding.captured_at, Finding.site_id).where(Finding.id.in_(findings),
                                                                                  Finding.counted()))
        parts.update((local_date(captured, tz), site) for captured, site in rows if captured is not None)
    pending = session.info.setdefault(PENDING, (set(), set()))
    pending[0].update(parts)
    pending[1].update(finding_ids)


def _after_flush(session: Session, _ctx) -> None:
    """Note the partitions this flush touched: where changed rows were (their values before the
    flush) and the findings whose partition (where they are at commit) is recounted."""
    finding_ids, parts, tz = set(), set(), None
    for obj in session.new:
        if isinstance(obj, Finding):
            if _counted_now(obj):
                finding_ids.add(obj.id)
        elif isinstance(obj, Rectification):
            finding_ids.add(obj.finding_id)
    for group, deleted in ((session.dirty, False), (session.deleted, True)):
        for obj in group:
            if isinstance(obj, Finding) and (deleted or _changed(obj, _FINDING_FIELDS)):
                if not _counted_before(obj) and (deleted or not _counted_now(obj)):
                    continue  # in no tally before this flush nor after it (e.g. awaiting review)
                tz = tz or _tz()
                captured = _before(obj, "captured_at")
                if captured is not None:
                    parts.add((local_date(captured, tz), _before(obj, "site_id")))
                if not deleted:
                    finding_ids.add(obj.id)
            elif isinstance(obj, Rectification) and (deleted or _changed(obj, _RECT_FIELDS)):
                finding_ids.update(v for v in (_before(obj, "finding_id"), instance_state(obj).dict.get("finding_id")) if v)
    finding_ids.discard(None)
    if not finding_ids and not parts:
        return
    # Kept past a savepoint's rollback too: recounting a partition nothing changed in is harmless.
    pending = session.info.setdefault(PENDING, (set(), set()))
    pending[0].update(parts)
    pending[1].update(finding_ids)


def _before_commit(session: Session) -> None:
    """Recount the partitions the transaction touched, the last writes before the feed's and COMMIT.
    XXX: a finding changed by a before_commit hook that runs after this one would go uncounted; the
    only other one (webapp/sync_store/tracking.py) writes the change feed through Core."""
    if session.get_nested_transaction() is not None:
        return
    session.flush()
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    parts, finding_ids = pending
    tz = _tz()
    conn = session.connection()
    ids = sorted(finding_ids)
    for i in range(0, len(ids), 500):
        rows = conn.execute(select(Finding.captured_at, Finding.site_id).where(Finding.id.in_(ids[i:i + 500])))
        parts.update((local_date(captured, tz), site) for captured, site in rows if captured is not None)
    if not parts:
        return
    if conn.dialect.name == "postgresql":
        for key in sorted(f"{day.isoformat()}|{site or ''}" for day, site in parts):
            conn.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"),
                         {"space": TALLY_LOCK_SPACE, "key": key})
    _recount(conn, parts, tz)
    session.info[RECOUNTED] = True


def _mark_epoch(session: Session) -> None:
    """After the change feed's rows (a later before_commit hook than tracking's): number this
    transaction among those that changed the tallies, under the feed's lock so the numbers follow
    commit order — a dashboard snapshot compares the newest number with the one it was counted at."""
    if session.get_nested_transaction() is not None or not session.info.pop(RECOUNTED, False):
        return
    if session.get_bind().dialect.name == "postgresql":
        lock_feed(session)  # already held if this transaction wrote feed rows (advisory locks nest)
    session.execute(insert(TallyEpoch).values(at=utcnow()))


def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING, None)
        session.info.pop(RECOUNTED, None)


def install_tally_hooks() -> None:
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
    if not event.contains(Session, "before_commit", _before_commit):
        # First among the before_commit hooks: the recount's partition locks are taken before the
        # change feed's lock (webapp/sync_store/tracking.py), never while holding it.
        event.listen(Session, "before_commit", _before_commit, insert=True)
    if not event.contains(Session, "before_commit", _mark_epoch):
        event.listen(Session, "before_commit", _mark_epoch)  # last: after the change feed's hook
    if not event.contains(Session, "after_transaction_end", _forget):
        event.listen(Session, "after_transaction_end", _forget)


# ---- reading: the raw measures' twins -----------------------------------------------------------------

_DIMS = {"department": FT.department_id, "site": FT.site_id, "area": FT.area, "item": FT.item_id,
         "severity": FT.severity}
_RT_DIMS = {"department": RT.department_id, "site": RT.site_id}


def serves(filters: m.Filters) -> bool:
    """Whether the tallies can answer for this user and these filters (else: measures.py)."""
    return getattr(filters.user, "role", None) in EVERYTHING and not filters.supervisor_id


def _where(table, filters: m.Filters, window: m.Window | None) -> list:
    if not serves(filters):
        raise ValueError("the tallies answer only for a user who sees everything, without a supervisor filter")
    where = []
    for name in ("department_id", "site_id", "area", "item_id"):
        if value := getattr(filters, name):
            if not hasattr(table, name):
                raise ValueError(f"no {name} in {table.__tablename__}")
            where.append(getattr(table, name) == value)
    if window is not None:
        where += [table.day >= window.start, table.day < window.end]
    return where


def _bucket(column, windows: list[tuple[str, m.Window]]):
    ordered, ranges = m.window_ranges(windows)
    bucket = case(*[(column >= win.start, key) for key, win in reversed(ordered)], else_=None)
    return bucket, or_(*[and_(column >= start, column < end) for start, end in ranges])


def _table_for(filters: m.Filters, by: tuple[str, ...]):
    """site_day_tallies when they hold every dimension asked for, else finding_tallies."""
    if set(by) <= {"department", "site"} and not filters.area and not filters.item_id:
        return ST
    return FT


def _counts_columns(table):
    if table is ST:
        return tuple(func.coalesce(func.sum(c), 0) for c in (ST.findings, ST.severe, ST.repeats))
    return (func.coalesce(func.sum(FT.findings), 0),
            func.coalesce(func.sum(case((FT.severity.in_(m.SEVERE), FT.findings), else_=0)), 0),
            func.coalesce(func.sum(FT.repeats), 0))


def _dims(table, by):
    return [getattr(table, _DIMS[name].key) for name in by]


def finding_counts(filters: m.Filters, window: m.Window | None, tz=None, by: tuple[str, ...] = ()) -> dict:
    table = _table_for(filters, by)
    dims = _dims(table, by)
    stmt = select(*dims, *_counts_columns(table)).where(*_where(table, filters, window))
    result = m._grouped(stmt, dims, lambda *v: m.Counts(*map(int, v)))
    if not by:
        result.setdefault((), m.Counts())
    return result


def finding_counts_by_window(filters: m.Filters, windows: list[tuple[str, m.Window]], tz=None,
                             by: tuple[str, ...] = ()) -> dict:
    table = _table_for(filters, by)
    bucket, in_any = _bucket(table.day, windows)
    dims = [bucket, *_dims(table, by)]
    stmt = select(*dims, *_counts_columns(table)).where(*_where(table, filters, None), in_any)
    return m._grouped(stmt, dims, lambda *v: m.Counts(*map(int, v)))


def _rates_columns(today: date):
    due = or_(RT.state == "accepted", and_(RT.deadline.is_not(None), RT.deadline < today))
    return (func.coalesce(func.sum(case((due, RT.rectifications), else_=0)), 0),
            func.coalesce(func.sum(RT.on_time), 0), func.coalesce(func.sum(RT.decided), 0),
            func.coalesce(func.sum(RT.first_round), 0))


def rectification_rates_by_window(filters: m.Filters, windows: list[tuple[str, m.Window]], tz, today: date,
                                  by: tuple[str, ...] = ()) -> dict:
    bucket, in_any = _bucket(RT.day, windows)
    dims = [bucket, *[_RT_DIMS[name] for name in by]]
    stmt = select(*dims, *_rates_columns(today)).where(*_where(RT, filters, None), in_any)
    return m._grouped(stmt, dims, lambda *v: m.Rates(*map(int, v)))


def rectification_rates(filters: m.Filters, window: m.Window | None, tz, today: date,
                        by: tuple[str, ...] = ()) -> dict:
    dims = [_RT_DIMS[name] for name in by]
    stmt = select(*dims, *_rates_columns(today)).where(*_where(RT, filters, window))
    result = m._grouped(stmt, dims, lambda *v: m.Rates(*map(int, v)))
    if not by:
        result.setdefault((), m.Rates())
    return result


def overdue_rectifications(filters: m.Filters, tz, today: date, window: m.Window | None = None,
                           by: tuple[str, ...] = ()) -> dict:
    dims = [_RT_DIMS[name] for name in by]
    stmt = (select(*dims, func.coalesce(func.sum(RT.rectifications), 0))
            .where(*_where(RT, filters, window), RT.state == "rectifying", RT.deadline < today))
    result = m._grouped(stmt, dims, int)
    if not by:
        result.setdefault((), 0)
    return result


def repeat_pairs(filters: m.Filters, window: m.Window, tz=None, limit: int = 10) -> list[tuple[str, str, int]]:
    n = func.sum(FT.repeats)
    stmt = (select(FT.site_id, FT.item_id, n)
            .where(*_where(FT, filters, window), FT.repeats > 0, FT.item_id.is_not(None))
            .group_by(FT.site_id, FT.item_id).order_by(n.desc(), FT.site_id, FT.item_id).limit(limit))
    return [(site, item, int(count)) for site, item, count in db.session.execute(stmt)]


# Not tallied: read from the raw rows through their indexes (a window's planned visits; the first few
# open rectifications of a few departments).
plan_completion = m.plan_completion
open_rectifications = m.open_rectifications
