"""`flask seed-scale --findings N`: a large company built fast, for the benchmarks (bench/dashboard.py,
bench/findings_list.py) and for trying the app at chain scale.

What it makes (deterministic for a seed and a `today`): departments, ~2,000 sites at 1M findings
(fewer for small N), supervisors, one checklist of 40 items in the five areas, a plan, a visit per
site and month over `years`, findings with severities, items, areas and repeats (the same site and
item within a year), rectifications with their histories (accepted on time, late, after one or two
failed acceptance rounds, still rectifying, some overdue, pending acceptance) and their acceptance
rounds. Rows go in by bulk inserts — COPY on PostgreSQL, DB-API executemany on SQLite — never the ORM
per row, so the sync history (revisions) is not written; the change feed gets one row per visit and
finding at the end (phones pull the company); the dashboard's tallies are
rebuilt at the end. Accounts: scale-manager and scale-sup0… (password from --password; without one
they cannot sign in).
"""

import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

from sqlalchemy import text

from webapp.checklists.models import AREAS
from webapp.core.clock import company_tz_name
from webapp.extensions import db

SEVERITIES, SEVERITY_WEIGHTS = ("low", "medium", "high", "critical"), (35, 40, 18, 7)
FINDINGS_PER_VISIT = 14  # a visit records about this many problems (≈ 1M findings: 2,000 sites monthly, 3 years)
ITEMS = 40
CHUNK = 20_000


class _Writer:
    """Bulk rows into one table: COPY on PostgreSQL, executemany of pre-formatted values on SQLite."""

    def __init__(self, conn, table: str, columns: list[str]):
        self.conn, self.table, self.columns = conn, table, columns
        self.pg = conn.dialect.name == "postgresql"
        self.rows: list[tuple] = []
        self.count = 0

    def add(self, row: tuple) -> None:
        self.rows.append(row if self.pg else tuple(_sqlite(v) for v in row))

    def flush(self) -> None:
        if not self.rows:
            return
        cols = ", ".join(self.columns)
        if self.pg:
            cursor = self.conn.connection.driver_connection.cursor()
            with cursor.copy(f"COPY {self.table} ({cols}) FROM STDIN") as copy:
                for row in self.rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(self.columns))
            self.conn.exec_driver_sql(f"INSERT INTO {self.table} ({cols}) VALUES ({marks})", self.rows)
        self.count += len(self.rows)
        self.rows = []


def _feed(conn) -> int:
    """The change feed's rows of the bulk-inserted visits and findings (their revisions are not
    written): one per record, in the order they were recorded, with the scope keys tracking.py
    gives them, so that phones pull the company (docs/sync-protocol.md)."""
    count = 0
    for entity, table, order in (("visit", "visits", "scheduled_for, id"), ("finding", "findings", "captured_at, id")):
        count += conn.execute(text(
            f"INSERT INTO sync_changes (entity, record_id, version, deleted, department_id, supervisor_id, changed_at) "
            f"SELECT '{entity}', id, version, false, department_id, supervisor_id, updated_at FROM {table} "
            f"WHERE id NOT IN (SELECT record_id FROM sync_changes WHERE entity = '{entity}') ORDER BY {order}")).rowcount
    return count


def _sqlite(value):
    """The text SQLAlchemy's types store on SQLite."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def seed_scale(findings: int, *, seed: int = 42, today: date | None = None, years: int = 3,
               password: str | None = None) -> dict:
    """Build the company and commit it. Returns counts and the ids the benchmarks need."""
    from webapp.core.database import refresh_statistics
    from webapp.rectification.deadlines import copy_all
    from webapp.results.dashboard.tallies import rebuild

    tz = company_tz_name()
    local = ZoneInfo(tz)
    today = today or datetime.now(local).date()
    rnd = random.Random(seed)
    t0 = time.perf_counter()

    def uid() -> str:
        return str(uuid.UUID(int=rnd.getrandbits(128), version=4))

    stamp = datetime.combine(today - timedelta(days=365 * years), dtime(9), local)
    months = years * 12
    n_visits = max(1, -(-findings // FINDINGS_PER_VISIT))
    n_sites = max(1, min(2000, -(-n_visits // months)))
    n_depts = max(1, min(20, n_sites // 10 or 1))
    n_sups = max(1, min(150, n_sites // 15 or 1))

    conn = db.session.connection()
    write = lambda table, cols: _Writer(conn, table, cols)  # noqa: E731

    # The reference data through the ORM (a few thousand rows; every default and sync revision as usual).
    from webapp.auth.models import User
    from webapp.checklists.models import ChecklistTemplate, TemplateItem
    from webapp.org.models import Department, Site
    from webapp.plans.models import Plan

    dept_rows = [Department(id=uid(), code=f"SC-D{i:02d}", name=f"规模部门{i}", name_en=f"Scale dept {i}")
                 for i in range(n_depts)]
    db.session.add_all(dept_rows)
    db.session.flush()
    depts = [d.id for d in dept_rows]
    site_rows = [Site(id=uid(), code=f"SC-S{i:04d}", name=f"门店{i:04d}", name_en=f"Store {i:04d}",
                      department_id=depts[i % n_depts], site_class="ABC"[i % 3]) for i in range(n_sites)]
    manager = User(username="scale-manager", display_name="规模经理", role="manager", password_hash="")
    sups = [User(username=f"scale-sup{i}", display_name=f"规模督导{i}", role="supervisor", password_hash="")
            for i in range(n_sups)]
    if password:
        manager.set_password(password)
        sups[0].set_password(password)
        for u in sups[1:]:
            u.password_hash = sups[0].password_hash
    template = ChecklistTemplate(id=uid(), code="SC-T", revision=1, name="门店检查表", name_en="Store checklist")
    db.session.add_all([*site_rows, manager, *sups, template])
    db.session.flush()
    sites = [(s.id, s.department_id) for s in site_rows]
    sup_ids = [u.id for u in sups]
    tpl = template.id
    item_rows = [TemplateItem(id=uid(), template_id=tpl, area=AREAS[i % len(AREAS)], code=f"SC-I{i:02d}",
                              title=f"检查项{i:02d}", title_en=f"Check {i:02d}", position=i) for i in range(ITEMS)]
    plan_row = Plan(id=uid(), title="规模计划", period_type="annual", period_start=today - timedelta(days=365 * years),
                    period_end=today + timedelta(days=30), status="published", author_id=manager.id)
    db.session.add_all([*item_rows, plan_row])
    db.session.flush()
    items = [(i.id, i.area) for i in item_rows]
    plan = plan_row.id

    # Visits: each site once a month, the most recent months first, until there are enough.
    visits = []
    first = date(today.year, today.month, 1)
    for back in range(months):
        index = first.year * 12 + first.month - 1 - back
        month = date(index // 12, index % 12 + 1, 1)
        days = min((date(month.year + month.month // 12, month.month % 12 + 1, 1) - month).days,
                   (today - month).days + 1)  # no visit after today
        for s, d in sites:
            if len(visits) >= n_visits:
                break
            day = month + timedelta(days=rnd.randrange(days))
            visits.append((uid(), s, d, sup_ids[rnd.randrange(n_sups)], day))
    w = write("visits", ["id", "version", "has_conflict", "site_id", "department_id", "template_id", "plan_id",
                         "supervisor_id", "status", "scheduled_for", "preparation_done", "created_at", "updated_at"])
    for vid, s, d, sup, day in visits:
        done = day < today or (day == today and rnd.random() < 0.5)
        status = "completed" if done and rnd.random() < 0.95 else ("scheduled" if not done else "in_progress")
        w.add((vid, 1, False, s, d, tpl, plan, sup, status, day, "[]", stamp, stamp))
    w.flush()

    # Findings, in capture order (a repeat points to an earlier one), and their rectifications.
    per_visit = [0] * len(visits)
    for i in range(findings):
        per_visit[i % len(visits) if i < len(visits) else rnd.randrange(len(visits))] += 1
    order = sorted(range(len(visits)), key=lambda i: visits[i][4])
    fw = write("findings", ["id", "version", "has_conflict", "visit_id", "site_id", "supervisor_id", "department_id",
                            "title", "description", "impact", "area", "item_id", "severity", "status", "photos",
                            "captured_at", "repeat_of_id", "created_at", "updated_at"])
    rw = write("rectifications", ["id", "finding_id", "measures", "owner", "deadline", "status", "round",
                                  "submitted_by", "accepted_at", "created_at", "updated_at"])
    aw = write("acceptance_rounds", ["rectification_id", "round", "result", "reason", "new_deadline",
                                     "decided_by", "decided_at"])
    last: dict[tuple, tuple] = {}
    year = timedelta(days=365)
    titles = ("地面湿滑未设警示", "消防通道堆放杂物", "冷柜温度超标", "员工未按规范着装", "价签与商品不符",
              "卫生间清洁不到位", "收银台排队过长", "过期商品未下架", "应急灯损坏", "监控画面缺失")
    for vi in order:
        vid, site, dept, sup, day = visits[vi]
        if day > today:
            continue
        start = datetime.combine(day, dtime(9), local)
        for k in range(per_visit[vi]):
            captured = start + timedelta(minutes=7 * k + rnd.randrange(5))
            item, area = items[rnd.randrange(ITEMS)]
            fid = uid()
            prev = last.get((site, item))
            repeat_of = prev[0] if prev and captured - prev[1] <= year and prev[2] != vid else None
            last[(site, item)] = (fid, captured, vid)
            severity = rnd.choices(SEVERITIES, weights=SEVERITY_WEIGHTS)[0]
            status = _rectification(rnd, rw, aw, fid, captured, local, today, manager.id, uid)
            fw.add((fid, 1, False, vid, site, sup, dept, titles[rnd.randrange(len(titles))],
                    f"抽查发现：{titles[rnd.randrange(len(titles))]}", "影响顾客体验", area, item, severity, status,
                    "[]", captured, repeat_of, captured, captured))
        if len(fw.rows) >= CHUNK:  # parents before children (foreign keys)
            for w in (fw, rw, aw):
                w.flush()
    for w in (fw, rw, aw):
        w.flush()
    copy_all(db.session)  # the rows above were written without the ORM's hooks
    finding_rows, rect_rows = rebuild(tz)
    feed = _feed(conn)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
    elif refresh_statistics(db.session):  # (an AUTOCOMMIT connection's ANALYZE was rolled back on SQLite)
        db.session.commit()
    return {"departments": n_depts, "sites": n_sites, "supervisors": n_sups, "visits": len(visits),
            "findings": fw.count, "rectifications": rw.count, "acceptance rounds": aw.count,
            "tally rows": finding_rows + rect_rows, "feed rows": feed, "seconds": round(time.perf_counter() - t0, 1),
            "manager_ids": [manager.id], "department_ids": depts, "site_ids": [s for s, _d in sites],
            "supervisor_ids": sup_ids}


def _rectification(rnd, rw, aw, fid, captured, local, today, decider, uid) -> str:
    """A rectification history for the finding; returns the finding's status."""
    if rnd.random() >= 0.9:
        return "open"  # no plan yet
    day = captured.astimezone(local).date()
    deadline = day + timedelta(days=rnd.choice((7, 14, 21, 30)))
    outcome = rnd.choices(("on_time", "late", "failed_once", "failed_twice", "open"), weights=(58, 15, 14, 4, 9))[0]
    rid, rounds, accepted = uid(), [], None
    if outcome in ("failed_once", "failed_twice"):
        for n in range(1 if outcome == "failed_once" else 2):
            decided = datetime.combine(deadline - timedelta(days=rnd.randint(0, 3)), dtime(16), local)
            deadline += timedelta(days=14)
            rounds.append((n + 1, "fail", "整改不到位", deadline, decided))
    if outcome == "on_time" or outcome.startswith("failed"):
        accepted = datetime.combine(deadline - timedelta(days=rnd.randint(0, 5)), dtime(15), local)
    elif outcome == "late":
        accepted = datetime.combine(deadline + timedelta(days=rnd.randint(1, 10)), dtime(15), local)
    if accepted is not None and accepted.date() < day:
        accepted = datetime.combine(day, dtime(18), local)
    rounds = [r for r in rounds if r[4].date() < today]
    if accepted is not None and accepted.date() >= today:
        accepted = None
    round_ = len(rounds) + 1
    if accepted is not None:
        rounds.append((round_, "pass", None, None, accepted))
        status, fstatus = "accepted", "closed"
    else:
        status = fstatus = rnd.choice(("rectifying", "rectifying", "pending_acceptance"))
    rw.add((rid, fid, "按标准整改并复查", f"店长{rnd.randint(1, 99)}", deadline, status, round_, decider,
            accepted, captured, accepted or captured))
    for n, result, reason, new_deadline, decided in rounds:
        aw.add((rid, n, result, reason, new_deadline, decider, decided))
    return fstatus
