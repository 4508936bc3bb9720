"""The dashboard's tallies equal a full recomputation from the raw rows after random writes — through
the sync push (create, edit severity / item / capture time, delete), the review step (confirm,
correct the severity, reject, merge: only confirmed findings count), the rectification operations
(plan, submit, pass, fail), and plain ORM writes standing for every other path (a finding moved to
another site or day, a deadline moved into the past, a rectification removed, a finding hard-deleted).

After every step: the tally tables equal what `rebuild()` counts from the raw rows, and the whole
dashboard (quarter, month, year; with and without a department filter) built from the tallies equals
the one built by measures.py from the raw rows."""

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from tests.conftest import PASSWORD, _cheap_hash
from tests.sync.conftest import Device, new_id
from webapp.authz import COMPANY_WIDE
from webapp.extensions import db
from webapp.findings import review
from webapp.findings.models import FindingReview
from webapp.findings.operations import NotAllowed, WorkflowError
from webapp.models import ChecklistTemplate, Department, Finding, Site, TemplateItem, User, Visit
from webapp.rectification import operations as ops
from webapp.rectification.models import AcceptanceRound, Rectification
from webapp.results.dashboard import measures as m
from webapp.results.dashboard import snapshots, tallies
from webapp.results.dashboard.models import FindingTally, RectificationTally, SiteDayTally
from webapp.results.dashboard.operations import build_dashboard
from webapp.results.periods import period_containing

TZ = "Asia/Shanghai"
TODAY = date(2026, 11, 20)
SEVERITIES = ("low", "medium", "high", "critical")
# Capture times around local midnights, in this quarter, the previous one and last year.
MOMENTS = [datetime(2026, 11, 19, 15, 59, tzinfo=UTC), datetime(2026, 11, 19, 16, 0, tzinfo=UTC),
           datetime(2026, 10, 1, 1, 0, tzinfo=UTC), datetime(2026, 9, 30, 15, 30, tzinfo=UTC),
           datetime(2026, 8, 14, 3, 0, tzinfo=UTC), datetime(2025, 12, 2, 8, 0, tzinfo=UTC)]


def snapshot():
    rows = Counter()
    for table in (FindingTally, SiteDayTally, RectificationTally):
        cols = [c for c in table.__table__.c if c.name != "id"]
        rows.update((table.__tablename__, *row) for row in db.session.execute(select(*cols)))
    return rows


class TallyMachine(RuleBasedStateMachine):
    client = None

    def __init__(self):
        super().__init__()
        tag = uuid.uuid4().hex[:8]
        d1, d2 = Department(code=f"A{tag}", name="一部"), Department(code=f"B{tag}", name="二部")
        db.session.add_all([d1, d2])
        db.session.flush()
        self.sites = [Site(code=f"S{tag}", name="一店", department_id=d1.id),
                      Site(code=f"T{tag}", name="二店", department_id=d2.id)]
        tpl = ChecklistTemplate(code=f"C{tag}", name="模板")
        pw = _cheap_hash(PASSWORD)
        self.sup = User(username=f"sup{tag}", display_name="督导", role="supervisor", password_hash=pw)
        self.heads = [User(username=f"head{i}{tag}", display_name="部长", role="dept_head", password_hash=pw,
                           department_id=d.id) for i, d in enumerate((d1, d2))]
        self.manager = User(username=f"mgr{tag}", display_name="经理", role="manager", password_hash=pw)
        db.session.add_all([*self.sites, tpl, self.sup, *self.heads, self.manager])
        db.session.flush()
        self.items = [TemplateItem(template_id=tpl.id, area=area, code=f"I{i}", title=f"项{i}", position=i)
                      for i, area in enumerate(("process", "risk", "service"))]
        self.visits = [Visit(site_id=s.id, department_id=s.department_id, template_id=tpl.id,
                             supervisor_id=self.sup.id, status="in_progress", scheduled_for=TODAY)
                       for s in self.sites]
        db.session.add_all([*self.items, *self.visits])
        db.session.commit()
        self.dept_ids = [d1.id, d2.id]
        self.phone = Device(self.client, self.sup)
        self.findings: list[str] = []

    def _finding(self, k) -> Finding | None:
        db.session.expire_all()
        live = [f for f in (db.session.get(Finding, fid) for fid in self.findings) if f is not None]
        return live[k % len(live)] if live else None

    # -- the sync push --

    @rule(v=st.integers(0, 1), at=st.sampled_from(MOMENTS), severity=st.sampled_from(SEVERITIES),
          item=st.integers(0, 3))
    def push_creates(self, v, at, severity, item):
        fid = new_id()
        data = {"visit_id": self.visits[v].id, "title": "问题", "severity": severity, "captured_at": at.isoformat()}
        if item < 3:
            data |= {"item_id": self.items[item].id, "area": self.items[item].area}
        res = self.phone.push_one("finding", fid, data)
        assert res["status"] == "applied", res
        self.findings.append(fid)

    @precondition(lambda self: self.findings)
    @rule(k=st.integers(0, 50), severity=st.sampled_from(SEVERITIES), at=st.sampled_from(MOMENTS),
          item=st.integers(0, 2))
    def push_edits(self, k, severity, at, item):
        f = self._finding(k)
        if f is None:
            return
        data = {"severity": severity, "captured_at": at.isoformat(), "item_id": self.items[item].id,
                "area": self.items[item].area}
        merged = f.review_status == "merged"  # closed to edits: the push is rejected
        res = self.phone.push_one("finding", f.id, data, base_version=f.version)
        # conflict: edited after a delete
        assert res["status"] in ("applied", "merged", "conflict", *(("rejected",) if merged else ())), res

    @precondition(lambda self: self.findings)
    @rule(k=st.integers(0, 50))
    def push_deletes(self, k):
        f = self._finding(k)
        if f is None:
            return
        res = self.phone.push_one("finding", f.id, base_version=f.version, op="delete")
        assert res["status"] in ("applied", "merged", "rejected"), res

    # -- the review step (a pushed finding awaits review and is counted once confirmed) --

    def _review(self, act):
        try:
            act()
            db.session.commit()
        except (WorkflowError, NotAllowed):
            db.session.rollback()

    @precondition(lambda self: self.findings)
    @rule(k=st.integers(0, 50))
    def review_confirms(self, k):
        f = self._finding(k)
        if f is not None and f.deleted_at is None:
            self._review(lambda: review.confirm_finding(f, self.manager))

    @precondition(lambda self: self.findings)
    @rule(k=st.integers(0, 50), severity=st.sampled_from(SEVERITIES))
    def review_corrects(self, k, severity):
        f = self._finding(k)
        if f is not None and f.deleted_at is None:
            self._review(lambda: review.correct_finding(f, self.manager, {"severity": severity}, "复核"))

    @precondition(lambda self: self.findings)
    @rule(k=st.integers(0, 50))
    def review_rejects(self, k):
        f = self._finding(k)
        if f is not None and f.deleted_at is None:
            self._review(lambda: review.reject_finding(f, self.manager, "不是问题"))

    @precondition(lambda self: len(self.findings) > 1)
    @rule(k=st.integers(0, 50), j=st.integers(0, 50))
    def review_merges(self, k, j):
        a, b = self._finding(k), self._finding(j)
        if a is not None and b is not None and a.deleted_at is None and b.deleted_at is None:
            self._review(lambda: review.merge_findings(a, b, self.manager, None))

    # -- the rectification operations --

    def _head(self, f):
        return self.heads[self.dept_ids.index(f.department_id)]

    @precondition(lambda self: self.findings)
    @rule(k=st.integers(0, 50), days=st.integers(0, 30))
    def plan(self, k, days):
        f = self._finding(k)
        if f is None or f.deleted_at is not None:
            return
        try:
            ops.submit_plan(f, self._head(f), "整改", "吴敏", TODAY + timedelta(days=days))
            db.session.commit()
        except (ops.WorkflowError, ops.NotAllowed):
            db.session.rollback()

    @precondition(lambda self: self.findings)
    @rule(k=st.integers(0, 50), passed=st.booleans())
    def submit_and_decide(self, k, passed):
        f = self._finding(k)
        if f is None or f.deleted_at is not None:
            return
        try:
            ops.submit_for_acceptance(f, self._head(f))
            if passed:
                ops.decide_acceptance(f, self.manager, "pass")
            else:
                ops.decide_acceptance(f, self.manager, "fail", "未整改到位", TODAY + timedelta(days=7))
            db.session.commit()
        except (ops.WorkflowError, ops.NotAllowed):
            db.session.rollback()

    # -- other writes, straight through the ORM --

    @precondition(lambda self: self.findings)
    @rule(k=st.integers(0, 50), back=st.integers(1, 90))
    def deadline_passes(self, k, back):
        f = self._finding(k)
        rect = f and db.session.scalar(select(Rectification).where(Rectification.finding_id == f.id))
        if rect is not None and rect.status != "accepted":
            rect.deadline = TODAY - timedelta(days=back)
            db.session.commit()

    @precondition(lambda self: self.findings)
    @rule(k=st.integers(0, 50), s=st.integers(0, 1))
    def moves_site(self, k, s):
        f = self._finding(k)
        if f is not None:
            f.visit_id, f.site_id, f.department_id = self.visits[s].id, self.sites[s].id, self.dept_ids[s]
            db.session.commit()

    @precondition(lambda self: self.findings)
    @rule(k=st.integers(0, 50))
    def hard_deletes(self, k):
        f = self._finding(k)
        if f is None:
            return
        rect = db.session.scalar(select(Rectification).where(Rectification.finding_id == f.id))
        if rect is not None:
            for r in db.session.scalars(select(AcceptanceRound).where(AcceptanceRound.rectification_id == rect.id)):
                db.session.delete(r)
            db.session.delete(rect)
        for log in db.session.scalars(select(FindingReview).where(FindingReview.finding_id == f.id)):
            db.session.delete(log)
        db.session.flush()
        for other in db.session.scalars(select(Finding).where(Finding.repeat_of_id == f.id)):
            other.repeat_of_id = None
        db.session.flush()
        db.session.delete(f)
        db.session.commit()

    # -- what must hold --

    @invariant()
    def tallies_equal_a_recount(self):
        db.session.expire_all()
        kept = snapshot()
        tallies.rebuild(TZ)
        assert kept == snapshot()
        db.session.commit()

    @invariant()
    def dashboard_equals_raw(self):
        manager = db.session.get(User, self.manager.id)
        for kind in ("quarter", "month", "year"):
            for dept in (None, self.dept_ids[0]):
                f = m.Filters(manager, department_id=dept)
                period = period_containing(TODAY, kind)
                raw = build_dashboard(f, period, TODAY, TZ, source=m)
                kept = build_dashboard(f, period, TODAY, TZ, source=tallies)
                assert raw == kept, (kind, dept)

    @invariant()
    def up_to_date_snapshots_equal_raw(self):
        """A snapshot whose mark is current must equal a full recount: every write above that
        changes a figure moves the mark (webapp/results/dashboard/snapshots.py). Then each is
        counted again (as the queue would) and must equal it too."""
        for kind in ("quarter", "year"):
            for dept in (None, self.dept_ids[0]):
                period = period_containing(TODAY, kind)
                raw = build_dashboard(m.Filters(COMPANY_WIDE, department_id=dept), period, TODAY, TZ, source=m)
                served = snapshots.read_dashboard(period, dept, None, TODAY, TZ)
                if served.fresh:
                    assert served.data == raw, (kind, dept)
                row = snapshots.recount_key(served.key, TZ)
                if row is not None:
                    snapshots.store_snapshot(row)
                    db.session.commit()
                    assert snapshots.decode(row["payload"]) == raw, (kind, dept)

    def teardown(self):
        db.session.rollback()


@pytest.mark.slow
def test_tallies_equal_the_raw_rows_after_random_writes(app, client):
    TallyMachine.client = client
    run_state_machine_as_test(TallyMachine, settings=settings(
        max_examples=10 if db.engine.dialect.name == "sqlite" else 6, stateful_step_count=25, deadline=None,
        database=None, suppress_health_check=list(HealthCheck), phases=[Phase.generate]))


def test_only_confirmed_findings_are_tallied(app, kpi):
    """A finding awaiting review, rejected or merged is in neither the tallies nor the raw measures;
    each review act recounts its day at once."""
    db.session.commit()
    manager = kpi["manager"]
    f, other = db.session.scalars(select(Finding).where(Finding.deleted_at.is_(None), Finding.status == "open")
                                  .order_by(Finding.captured_at, Finding.id)).all()[:2]

    def tallied() -> int:
        for kind in ("quarter", "year"):  # the tallies and the raw rows agree at every step
            period = period_containing(TODAY, kind)
            kept = build_dashboard(m.Filters(manager), period, TODAY, TZ, source=tallies)
            assert kept == build_dashboard(m.Filters(manager), period, TODAY, TZ, source=m)
        kept = snapshot()
        tallies.rebuild(TZ)
        assert snapshot() == kept
        return sum(db.session.scalars(select(SiteDayTally.findings)))

    start = tallied()
    f.review_status = "pending"  # as a phone's finding arrives
    db.session.commit()
    assert tallied() == start - 1
    review.confirm_finding(f, manager)
    db.session.commit()
    assert tallied() == start
    review.reject_finding(f, manager, "不是问题")
    db.session.commit()
    assert tallied() == start - 1
    review.confirm_finding(f, manager)
    review.merge_findings(other, f, manager, "同一问题")
    db.session.commit()
    assert tallied() == start - 1  # the two are one problem, counted once


def test_dashboard_reads_the_tallies_for_managers_only(app, create_user):
    manager, sup = create_user("mgr", "manager"), create_user("sup", "supervisor")
    assert tallies.serves(m.Filters(manager))
    assert not tallies.serves(m.Filters(manager, supervisor_id=sup.id))
    assert not tallies.serves(m.Filters(sup))
    with pytest.raises(ValueError):
        tallies.finding_counts(m.Filters(sup), None)


def test_rebuild_command(app, kpi):
    db.session.commit()
    kept = snapshot()
    assert sum(n for key, n in kept.items() if key[0] == "finding_tallies") > 0
    result = app.test_cli_runner().invoke(args=["aggregates", "rebuild"])
    assert result.exit_code == 0, result.output
    assert snapshot() == kept


@pytest.mark.slow
def test_simultaneous_pushes_into_one_partition_keep_the_tallies_equal(app, client):
    """Supervisors' phones push findings of one site and day at the same moment (on PostgreSQL
    really side by side): each transaction recounts the partition, and the tallies still equal a
    recount — none is counted from a snapshot missing another's rows, none leaves duplicate rows."""
    threads, per_push = 6, 15
    tag = uuid.uuid4().hex[:8]
    dept = Department(code=f"P{tag}", name="一部")
    db.session.add(dept)
    db.session.flush()
    site = Site(code=f"P{tag}", name="一店", department_id=dept.id)
    tpl = ChecklistTemplate(code=f"P{tag}", name="模板")
    sups = [User(username=f"psup{i}{tag}", display_name="督导", role="supervisor",
                 password_hash=_cheap_hash(PASSWORD)) for i in range(threads)]
    db.session.add_all([site, tpl, *sups])
    db.session.flush()
    visits = [Visit(site_id=site.id, department_id=dept.id, template_id=tpl.id, supervisor_id=s.id,
                    status="in_progress", scheduled_for=TODAY) for s in sups]
    db.session.add_all(visits)
    db.session.commit()
    devices = [Device(client, s) for s in sups]
    visit_ids, dept_id, site_id = [v.id for v in visits], dept.id, site.id  # the threads have no app context
    db.session.commit()  # XXX: on SQLite an open transaction here would hold the write lock the pushes need
    at = MOMENTS[1].isoformat()
    start = threading.Barrier(threads)

    def push(i):
        d = devices[i]
        muts = [d.mutation("finding", new_id(), {"visit_id": visit_ids[i], "title": "问题", "captured_at": at,
                                                "severity": SEVERITIES[(i + k) % 4]}) for k in range(per_push)]
        start.wait()
        r = client.post("/api/v1/sync/push", json={"device_id": d.device_id, "mutations": muts}, headers=d.headers)
        assert r.status_code == 200, r.get_data(as_text=True)
        return [res["status"] for res in r.get_json()["results"]]

    with ThreadPoolExecutor(threads) as pool:
        statuses = [s for batch in pool.map(push, range(threads)) for s in batch]
    assert statuses == ["applied"] * threads * per_push
    db.session.expire_all()
    # synced findings await review and count nowhere yet
    assert not [k for k in snapshot() if k[0] == "site_day_tallies" and k[3] == site_id]
    manager = User(username=f"pmgr{tag}", display_name="经理", role="manager", password_hash=_cheap_hash(PASSWORD))
    db.session.add(manager)
    db.session.flush()
    manager_id = manager.id
    db.session.commit()  # nothing read after this in this thread: on SQLite a read would hold the write lock
    confirm_start = threading.Barrier(threads)

    def confirm(i):
        """Management confirms each phone's findings, six transactions recounting one partition at once."""
        with app.app_context():
            ids = db.session.scalars(select(Finding.id).where(Finding.visit_id == visit_ids[i])).all()
            db.session.commit()  # on SQLite even a read holds the write lock (BEGIN IMMEDIATE)
            confirm_start.wait()
            who = db.session.get(User, manager_id)
            for finding_id in ids:
                review.confirm_finding(db.session.get(Finding, finding_id), who)
            db.session.commit()
            db.session.remove()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(confirm, range(threads)))
    db.session.expire_all()
    kept = snapshot()
    severe = sum(SEVERITIES[(i + k) % 4] in ("high", "critical") for i in range(threads) for k in range(per_push))
    # 2026-11-19 16:00 UTC is the 20th in Shanghai: one site-day row with every finding in it
    assert kept[("site_day_tallies", date(2026, 11, 20), dept_id, site_id, threads * per_push, severe, 0)] == 1
    tallies.rebuild(TZ)
    assert kept == snapshot()
    db.session.commit()


def test_findings_in_no_tally_before_nor_after_recount_nothing(app, kpi):
    """A flush that touches only findings counted neither before nor after it (awaiting review, or
    deleted throughout) notes no partition: no recount, no tally epoch. One that moves a finding in
    or out of the counted ones (confirmed, soft-deleted) recounts, its old partition included."""
    from webapp.results.dashboard.models import TallyEpoch

    def epochs():
        return db.session.scalar(select(db.func.count()).select_from(TallyEpoch))

    db.session.commit()
    counted = db.session.scalars(select(Finding).where(Finding.counted()).order_by(Finding.id)).all()
    f, g = counted[0], counted[1]
    before = epochs()
    f.review_status = "pending"  # out of the tallies: recounted
    db.session.commit()
    assert epochs() == before + 1
    f.severity = "critical" if f.severity != "critical" else "low"  # awaiting review: in no tally
    f.captured_at = f.captured_at + timedelta(days=3)
    db.session.flush()
    assert not db.session.info.get(tallies.PENDING)
    db.session.commit()
    assert epochs() == before + 1
    g.deleted_at, g.site_id = datetime(2026, 11, 20, tzinfo=UTC), None  # out, and out of its site (None old value)
    db.session.commit()
    assert epochs() == before + 2
    g.severity = "critical" if g.severity != "critical" else "low"  # deleted throughout
    db.session.commit()
    assert epochs() == before + 2
    kept = snapshot()
    tallies.rebuild(TZ)
    assert kept == snapshot()
    db.session.commit()


def test_a_push_of_new_findings_awaiting_review_recounts_nothing(app, client, kpi):
    from webapp.results.dashboard.models import TallyEpoch

    db.session.commit()
    visit = db.session.scalar(select(Visit).where(Visit.status == "completed").order_by(Visit.id))
    sup = db.session.get(User, visit.supervisor_id)
    visit.status = "in_progress"
    db.session.commit()
    d = Device(client, sup)
    before = db.session.scalar(select(db.func.count()).select_from(TallyEpoch))
    muts = [d.mutation("finding", new_id(), {"visit_id": visit.id, "title": "问题", "severity": "high",
                                            "captured_at": MOMENTS[0].isoformat()}) for _ in range(3)]
    r = client.post("/api/v1/sync/push", json={"device_id": d.device_id, "mutations": muts}, headers=d.headers)
    assert [res["status"] for res in r.get_json()["results"]] == ["applied"] * 3
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count()).select_from(TallyEpoch)) == before
    kept = snapshot()
    tallies.rebuild(TZ)
    assert kept == snapshot()
    db.session.commit()
