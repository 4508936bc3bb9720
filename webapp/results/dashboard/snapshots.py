"""The dashboard counted ahead: its figures for a period, filter and day are kept as a snapshot that
the page serves with the time it was counted, and the job queue counts again when the data changed.

Why: at chain scale (a million findings) counting the page takes about a second even from the
tallies; a manager should not wait for it on every visit, and forty managers opening the page on a
Monday morning should not count it forty times (docs/results.md, docs/benchmarks.md).

How the figures stay true:
- A snapshot is counted by `build_dashboard` — the same code, from the tallies, that equal the raw
  rows (tests/results/dashboard/test_snapshots.py compares a snapshot with a full recount from the
  raw rows after random writes).
- It carries the data's `mark` from before counting began: the newest tally epoch (one per committed
  transaction that changed findings or rectifications, numbered in commit order) and the change
  feed's newest seq (visits, for plan completion). The mark only grows; a snapshot whose mark is the
  current one is up to date, one whose mark is older is served as of the time it was counted,
  said so on the page, while the job queue counts it again (`recount_snapshot`); the page then
  updates itself.
- A snapshot older than DASHBOARD_MAX_STALE_SECONDS (no worker running, or one far behind) is not
  served: the request counts it itself, so a page is never more than that behind.
- Every snapshot is of one day (`today`): the rates and overdue counts depend on it. A new day
  starts new snapshots; `refresh_snapshots` (every few minutes, from the queue) removes the old
  ones, counts again the stale ones people read lately, and counts the current quarter, month and
  year of the whole company ahead of the first reader of the day.

Only the figures are kept; names, links and the calibration card are drawn at every request. The
open items of the departments that got worse are kept as ids and loaded when served (one that was
deleted since drops out). Operations here never commit.
"""

import json
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from webapp.authz import COMPANY_WIDE
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.rectification.models import Rectification
from webapp.results.dashboard import measures as m
from webapp.results.dashboard.models import DashboardSnapshot, TallyEpoch
from webapp.results.dashboard.operations import Worse, build_dashboard
from webapp.results.periods import Period, local_date, parse_period, period_containing
from webapp.sync_store.models import Change

ASK_AGAIN_AFTER = timedelta(seconds=30)  # a recount asked of the queue is asked again only after this
READ_TOUCH = timedelta(minutes=10)  # how often a read is noted on a fresh snapshot
KEEP_UNREAD = timedelta(days=1)
RECOUNT_READ_WITHIN = timedelta(hours=1)  # the periodic refresh counts again what was read lately
RECOUNT_AT_MOST = 20  # snapshots recounted by one periodic run
AHEAD = ("quarter", "month", "year")  # the whole company's current periods, counted before their first reader


def snapshot_key(period: Period, department_id: str | None, site_id: str | None, today: date) -> str:
    return f"{period.code}|{department_id or ''}|{site_id or ''}|{today.isoformat()}"


def current_mark() -> str:
    """The state of what the dashboard counts: '<newest tally epoch>.<newest change seq>'."""
    epoch = select(func.max(TallyEpoch.id)).scalar_subquery()
    seq = select(func.max(Change.seq)).scalar_subquery()
    e, s = db.session.execute(select(epoch, seq)).one()
    return f"{e or 0}.{s or 0}"


# ---- the figures as JSON and back ------------------------------------------------------------------

def _window(w: m.Window) -> list[str]:
    return [w.start.isoformat(), w.end.isoformat()]


def _unwindow(v) -> m.Window:
    return m.Window(date.fromisoformat(v[0]), date.fromisoformat(v[1]))


def encode(data: dict) -> str:
    doc = {
        "window": _window(data["window"]), "previous": _window(data["previous"]), "period": data["period"].code,
        "totals": {w: asdict(c) for w, c in data["totals"].items()},
        "rates": {w: asdict(r) for w, r in data["rates"].items()},
        "plans": {w: asdict(p) for w, p in data["plans"].items()},
        "overdue": data["overdue"],
        "by": {dim: {w: [[k, asdict(c)] for k, c in by_w.items()] for w, by_w in per.items()}
               for dim, per in data["by"].items()},
        "severity": [[k, n] for k, n in data["severity"].items()],
        "trend": [[code, _window(win), asdict(c)] for code, win, c in data["trend"]],
        "worse": [{"department_id": w.department_id, "now": asdict(w.now), "before": asdict(w.before),
                   "drivers": [list(d) for d in w.drivers], "overdue": w.overdue,
                   "open_items": [[f.id, r.id if r is not None else None] for f, r in w.open_items]}
                  for w in data["worse"]],
        "repeats": [list(r) for r in data["repeats"]],
        "top_sites": data["top_sites"], "sites_with_findings": data["sites_with_findings"],
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def decode(text: str) -> dict:
    doc = json.loads(text)
    wanted = [pair for w in doc["worse"] for pair in w["open_items"]]
    findings = {f.id: f for f in db.session.scalars(select(Finding).where(
        Finding.id.in_([f for f, _r in wanted]), Finding.deleted_at.is_(None)))} if wanted else {}
    rects = {r.id: r for r in db.session.scalars(select(Rectification).where(
        Rectification.id.in_([r for _f, r in wanted if r])))} if any(r for _f, r in wanted) else {}
    worse = []
    for w in doc["worse"]:
        open_items = [(findings[f], rects.get(r) if r else None) for f, r in w["open_items"]
                      if f in findings and (r is None or r in rects)]
        worse.append(Worse(w["department_id"], m.Counts(**w["now"]), m.Counts(**w["before"]),
                           drivers=[tuple(d) for d in w["drivers"]], open_items=open_items, overdue=w["overdue"]))
    return {
        "window": _unwindow(doc["window"]), "previous": _unwindow(doc["previous"]),
        "period": parse_period(doc["period"]),
        "totals": {w: m.Counts(**c) for w, c in doc["totals"].items()},
        "rates": {w: m.Rates(**r) for w, r in doc["rates"].items()},
        "plans": {w: m.PlanCounts(**p) for w, p in doc["plans"].items()},
        "overdue": doc["overdue"],
        "by": {dim: {w: {k: m.Counts(**c) for k, c in pairs} for w, pairs in per.items()}
               for dim, per in doc["by"].items()},
        "severity": dict((k, n) for k, n in doc["severity"]),
        "trend": [(code, _unwindow(win), m.Counts(**c)) for code, win, c in doc["trend"]],
        "worse": worse,
        "repeats": [tuple(r) for r in doc["repeats"]],
        "top_sites": doc["top_sites"], "sites_with_findings": doc["sites_with_findings"],
    }


# ---- counting, storing, serving ---------------------------------------------------------------------
# Counting only reads; what is to be stored comes back as values for `store_snapshot`, written in a
# transaction of its own (on SQLite the writer lock is then held for a moment, not for the count).

def store_snapshot(values: dict) -> None:
    """Insert the snapshot, or replace the one of the same key (two counting at once: the last wins)."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(DashboardSnapshot).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=[DashboardSnapshot.key],
                                      set_={k: stmt.excluded[k] for k in values if k != "key"})
    db.session.execute(stmt)


def count_snapshot(period: Period, department_id: str | None, site_id: str | None, today: date, tz,
                   now: datetime | None = None) -> tuple[dict, dict]:
    """Count the figures now: (the figures, the snapshot row to store)."""
    now = now or utcnow()
    mark = current_mark()  # before counting: whatever commits meanwhile makes this snapshot stale
    started = time.perf_counter()
    data = build_dashboard(m.Filters(COMPANY_WIDE, department_id=department_id, site_id=site_id), period, today, tz)
    return data, {"key": snapshot_key(period, department_id, site_id, today), "today": today, "mark": mark,
                  "payload": encode(data), "computed_at": now,
                  "seconds": round(time.perf_counter() - started, 3), "read_at": now, "requested_at": None}


@dataclass
class Served:
    data: dict
    computed_at: datetime
    fresh: bool  # counted at the data's current state
    key: str
    store: dict | None = None  # counted by this request: the row to keep
    ask: bool = False  # stale: ask the queue to count again (noted on the row)
    touch: bool = False  # note the read (the periodic refresh counts again what people read)

    @property
    def writes(self) -> bool:
        return bool(self.store or self.ask or self.touch)


def read_dashboard(period: Period, department_id: str | None, site_id: str | None, today: date, tz,
                   now: datetime | None = None) -> Served:
    """The figures for the page (reads only; `note_served` writes what follows from it): the
    snapshot when up to date; a stale one, not older than DASHBOARD_MAX_STALE_SECONDS, as of when it
    was counted, with a recount to ask of the queue; else counted now. Raises DashboardError for a
    period that has not started."""
    now = now or utcnow()
    key = snapshot_key(period, department_id, site_id, today)
    snap = db.session.get(DashboardSnapshot, key)
    max_stale = timedelta(seconds=current_app.config.get("DASHBOARD_MAX_STALE_SECONDS", 600))
    if snap is None or now - snap.computed_at > max_stale:
        data, row = count_snapshot(period, department_id, site_id, today, tz, now)
        return Served(data, now, True, key, store=row)
    fresh = snap.mark == current_mark()
    ask = not fresh and (snap.requested_at is None or now - snap.requested_at > ASK_AGAIN_AFTER)
    return Served(decode(snap.payload), snap.computed_at, fresh, key, ask=ask, touch=now - snap.read_at > READ_TOUCH)


def note_served(served: Served, now: datetime | None = None) -> None:
    now = now or utcnow()
    if served.store:
        store_snapshot(served.store)
        return
    values = ({"requested_at": now} if served.ask else {}) | ({"read_at": now} if served.touch else {})
    if values:
        db.session.execute(update(DashboardSnapshot).where(DashboardSnapshot.key == served.key).values(**values))


def recount_key(key: str, tz, now: datetime | None = None) -> dict | None:
    """The queue's recount: the row to store for this key, or None if its snapshot is up to date."""
    snap = db.session.get(DashboardSnapshot, key)
    if snap is not None and snap.mark == current_mark():
        return None
    period, department_id, site_id, today = key_parts(key)
    return count_snapshot(period, department_id, site_id, today, tz, now)[1]


def prune_snapshots(tz, now: datetime | None = None) -> list[str]:
    """The periodic refresh's first step: drop the snapshots of past days and those nobody read for
    a day, and the older tally epochs. Returns the keys to count again: the stale snapshots read
    lately (newest read first, at most RECOUNT_AT_MOST), and the whole company's current quarter,
    month and year if nobody asked for them yet today."""
    now = now or utcnow()
    today = local_date(now, tz)
    db.session.execute(delete(DashboardSnapshot).where(
        (DashboardSnapshot.today < today) | (DashboardSnapshot.read_at < now - KEEP_UNREAD)))
    newest = db.session.scalar(select(func.max(TallyEpoch.id)))
    if newest:
        db.session.execute(delete(TallyEpoch).where(TallyEpoch.id < newest))
    keys = list(db.session.scalars(
        select(DashboardSnapshot.key).where(DashboardSnapshot.today == today, DashboardSnapshot.mark != current_mark(),
                                            DashboardSnapshot.read_at >= now - RECOUNT_READ_WITHIN)
        .order_by(DashboardSnapshot.read_at.desc()).limit(RECOUNT_AT_MOST)))
    for kind in AHEAD:
        key = snapshot_key(period_containing(today, kind), None, None, today)
        if key not in keys and db.session.get(DashboardSnapshot, key) is None:
            keys.append(key)
    return keys


def key_parts(key: str) -> tuple[Period, str | None, str | None, date]:
    period, dept, site, today = key.split("|")
    return parse_period(period), dept or None, site or None, date.fromisoformat(today)
