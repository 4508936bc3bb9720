"""Every KPI formula of the dashboard on the hand-made data of conftest.py (known answers)."""

from datetime import date

import pytest

from tests.results.dashboard.conftest import TODAY, TZ
from webapp.extensions import db
from webapp.rectification.models import Rectification
from webapp.results.dashboard import measures as m
from webapp.results.dashboard.operations import DashboardError, build_dashboard
from webapp.results.periods import parse_period

Q3 = m.Window(date(2026, 7, 1), date(2026, 10, 1))
Q2 = m.Window(date(2026, 4, 1), date(2026, 7, 1))


def test_windows_compare_a_running_period_like_for_like():
    assert m.windows_for(parse_period("2026-Q3"), TODAY) == (Q3, Q2)
    cur, prev = m.windows_for(parse_period("2026-Q4"), TODAY)
    assert cur == m.Window(date(2026, 10, 1), date(2026, 11, 21)) and cur.days == 51
    assert prev == m.Window(date(2026, 7, 1), date(2026, 8, 21)) and prev.days == 51
    cur, prev = m.windows_for(parse_period("2026-03"), date(2026, 3, 31))
    assert cur == m.Window(date(2026, 3, 1), date(2026, 4, 1)) and prev == m.Window(date(2026, 2, 1), date(2026, 3, 1))
    cur, prev = m.windows_for(parse_period("2026-03"), date(2026, 3, 30))
    assert prev == m.Window(date(2026, 2, 1), date(2026, 3, 1))  # February is shorter than 30 days


def test_month_windows_cross_the_year():
    months = m.month_windows(m.Window(date(2026, 1, 1), date(2026, 1, 15)), 3)
    assert [code for code, _ in months] == ["2025-11", "2025-12", "2026-01"]
    assert months[-1][1] == m.Window(date(2026, 1, 1), date(2026, 1, 15))
    assert months[0][1] == m.Window(date(2025, 11, 1), date(2025, 12, 1))


def test_finding_counts_shares_and_local_time_boundaries(kpi):
    c = m.finding_counts(m.Filters(kpi["manager"]), Q3, TZ)[()]
    assert (c.total, c.severe, c.repeats) == (5, 3, 1)  # not the deleted one, not Oct 1 00:10 local
    assert c.severe_share == pytest.approx(0.6) and c.repeat_share == pytest.approx(0.2)
    before = m.finding_counts(m.Filters(kpi["manager"]), Q2, TZ)[()]
    assert (before.total, before.severe, before.repeats) == (3, 0, 0)
    assert m.Counts().severe_share is None


def test_finding_counts_grouped(kpi):
    f = m.Filters(kpi["manager"])
    by_dept = m.finding_counts(f, Q3, TZ, by=("department",))
    assert {k[0]: (v.total, v.severe) for k, v in by_dept.items()} == {kpi["a"].id: (4, 2), kpi["b"].id: (1, 1)}
    by_month = m.finding_counts(f, Q3, TZ, by=("month",))
    assert {k[0]: v.total for k, v in by_month.items()} == {"2026-07": 3, "2026-08": 1, "2026-09": 1}
    by_sev = m.finding_counts(f, Q3, TZ, by=("severity",))
    assert {k[0]: v.total for k, v in by_sev.items()} == {"low": 1, "medium": 1, "high": 2, "critical": 1}
    by_area = m.finding_counts(f, Q3, TZ, by=("area",))
    assert {k[0]: v.total for k, v in by_area.items()} == {"process": 3, "risk": 2}
    pairs = m.finding_counts(f, Q3, TZ, by=("department", "item"))
    assert pairs[(kpi["a"].id, kpi["p1"].id)].total == 1


def test_filters_narrow_and_scope_applies(kpi):
    assert m.finding_counts(m.Filters(kpi["manager"], department_id=kpi["a"].id), Q3, TZ)[()].total == 4
    assert m.finding_counts(m.Filters(kpi["manager"], site_id=kpi["sb"].id), Q3, TZ)[()].total == 1
    assert m.finding_counts(m.Filters(kpi["manager"], area="risk"), Q3, TZ)[()].total == 2
    # A department head sees only the department's findings, whatever the filters say.
    assert m.finding_counts(m.Filters(kpi["head_b"]), Q3, TZ)[()].total == 1
    assert m.finding_counts(m.Filters(kpi["head_b"], department_id=kpi["a"].id), Q3, TZ)[()].total == 0
    assert m.finding_counts(m.Filters(kpi["sup"], supervisor_id=kpi["sup"].id), Q3, TZ)[()].total == 5


def test_rectification_rates(kpi):
    r = m.rectification_rates(m.Filters(kpi["manager"]), Q3, TZ, TODAY)[()]
    assert (r.due, r.on_time, r.decided, r.first_round) == (4, 2, 3, 2)
    assert r.on_time_rate == pytest.approx(0.5) and r.first_round_rate == pytest.approx(2 / 3)
    by_dept = m.rectification_rates(m.Filters(kpi["manager"]), Q3, TZ, TODAY, by=("department",))
    a, b = by_dept[(kpi["a"].id,)], by_dept[(kpi["b"].id,)]
    assert (a.due, a.on_time, a.decided, a.first_round) == (3, 2, 2, 1)
    assert (b.due, b.on_time, b.decided, b.first_round) == (1, 0, 1, 1)
    # "Due" is judged on the stored states: on Jul 25 only the three accepted ones count (f3 is due Nov 1).
    early = m.rectification_rates(m.Filters(kpi["manager"]), Q3, TZ, date(2026, 7, 25))[()]
    assert early.due == 3
    assert m.Rates().on_time_rate is None and m.Rates().first_round_rate is None


def test_overdue_rectifications(kpi):
    f = m.Filters(kpi["manager"])
    assert m.overdue_rectifications(f, TZ, TODAY)[()] == 2  # g1 (Q2) and f3 (Q3)
    assert m.overdue_rectifications(f, TZ, TODAY, window=Q3)[()] == 1
    assert m.overdue_rectifications(f, TZ, date(2026, 5, 1))[()] == 0
    assert m.overdue_rectifications(f, TZ, TODAY, by=("department",)) == {(kpi["a"].id,): 2}


def test_plan_completion(kpi):
    p = m.plan_completion(m.Filters(kpi["manager"]), Q3, TODAY)[()]
    assert (p.planned, p.done) == (3, 2) and p.completion_rate == pytest.approx(2 / 3)
    # Visits still to come are not missed yet: on Sep 1 only the two done were due.
    p = m.plan_completion(m.Filters(kpi["manager"]), Q3, date(2026, 9, 1))[()]
    assert (p.planned, p.done) == (2, 2)
    by_site = m.plan_completion(m.Filters(kpi["manager"]), Q3, TODAY, by=("site",))
    assert {k[0]: (v.planned, v.done) for k, v in by_site.items()} == {kpi["sa"].id: (2, 1), kpi["sb"].id: (1, 1)}
    assert m.PlanCounts().completion_rate is None


def test_repeat_pairs_and_open_rectifications(kpi):
    f = m.Filters(kpi["manager"])
    assert m.repeat_pairs(f, Q3, TZ) == [(kpi["sa"].id, kpi["p1"].id, 1)]
    rows = m.open_rectifications(f, Q3, TZ, [kpi["a"].id])
    assert [(fd.title, r.owner if r else None) for fd, r in rows] == [("f3", "owner-f3"), ("f4", "owner-f4")]


def test_build_dashboard_finds_who_got_worse_and_why(kpi):
    d = build_dashboard(m.Filters(kpi["manager"]), parse_period("2026-Q3"), TODAY, TZ)
    assert d["totals"]["now"].total == 5 and d["totals"]["before"].total == 3
    assert d["rates"]["now"].on_time == 2 and d["plans"]["now"].planned == 3 and d["overdue"] == 2
    worse = {w.department_id: w for w in d["worse"]}
    assert set(worse) == {kpi["a"].id, kpi["b"].id}  # B: fewer findings but more high ones
    a = worse[kpi["a"].id]
    assert (a.now.total, a.before.total, a.delta) == (4, 1, 3)
    assert a.drivers[0] == (None, "process", 2, 0)  # f1 and f2 have no checklist item: their area drives it
    assert [f.title for f, _r in a.open_items] == ["f3", "f4"] and a.overdue == 2
    assert [code for code, _w, _c in d["trend"]][-3:] == ["2026-07", "2026-08", "2026-09"]
    assert sum(c.total for _code, _w, c in d["trend"]) == 8  # Q2's 3 and Q3's 5 within the 12 months
    with pytest.raises(DashboardError):
        build_dashboard(m.Filters(kpi["manager"]), parse_period("2027-Q1"), TODAY, TZ)


def test_several_windows_in_one_scan_match_the_single_window_measures(kpi):
    f = m.Filters(kpi["manager"])
    windows = [("now", Q3), ("before", Q2)]
    counts = m.finding_counts_by_window(f, windows, TZ)
    assert (counts[("now",)].total, counts[("now",)].severe, counts[("before",)].total) == (5, 3, 3)
    by_dept = m.finding_counts_by_window(f, windows, TZ, by=("department",))
    assert by_dept[("before", kpi["b"].id)].total == 2 and by_dept[("now", kpi["a"].id)].total == 4
    rates = m.rectification_rates_by_window(f, windows, TZ, TODAY)
    now = rates[("now",)]
    assert (now.due, now.on_time, now.decided, now.first_round) == (4, 2, 3, 2)
    assert (rates[("before",)].due, rates[("before",)].on_time) == (1, 0)  # g1: overdue, not accepted
    # Without a window (every capture date), the same definitions.
    everything = m.rectification_rates(f, None, TZ, TODAY)[()]
    assert (everything.due, everything.on_time) == (5, 2)


def test_overlapping_windows_are_refused(kpi):
    with pytest.raises(ValueError):
        m.finding_counts_by_window(m.Filters(kpi["manager"]), [("a", Q3), ("b", m.Window(date(2026, 9, 1), date(2026, 11, 1)))], TZ)


def test_open_rectifications_are_the_first_few_of_each_department(kpi):
    """Each department that got worse shows its own earliest deadlines: one department's many open
    findings do not crowd out another's (the dashboard asks for five each)."""
    f5 = kpi["f"]["f5"]  # department B's, reopened: its deadline (Aug 1) is earlier than any of A's
    f5.status = "rectifying"
    Rectification.query.filter_by(finding_id=f5.id).one().status = "rectifying"
    db.session.commit()
    f = m.Filters(kpi["manager"])
    both = m.open_rectifications(f, Q3, TZ, [kpi["a"].id, kpi["b"].id], limit=1)
    per_dept = {}
    for finding, _rect in both:
        per_dept.setdefault(finding.department_id, []).append(finding.title)
    alone = {d: m.open_rectifications(f, Q3, TZ, [d], limit=1) for d in (kpi["a"].id, kpi["b"].id)}
    assert per_dept == {d: [row[0].title for row in rows] for d, rows in alone.items() if rows}
    assert per_dept == {kpi["a"].id: ["f3"], kpi["b"].id: ["f5"]}
