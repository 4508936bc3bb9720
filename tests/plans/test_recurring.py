"""Recurring visits by site class: the cycles, generation (by class, idempotent, load balanced within
one visit), the missed visits (应巡未巡) at the pinned today (2026-11-20), the pages and the job."""

from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import csrf_from
from webapp.extensions import db
from webapp.plans import recurring as ops
from webapp.plans.models import RecurrenceRule, RecurringVisit
from webapp.plans.operations import PlanError, PlanPermissionError
from webapp.plans.recurrence import Proposal, balance, cycle_containing, cycles_ending_in, spread_days
from webapp.results.periods import parse_period
from webapp.visits.models import Visit

TODAY = date(2026, 11, 20)
TZ = "Asia/Shanghai"
EN = {"Accept-Language": "en"}


# ---- pure -------------------------------------------------------------------------------------

def _span(cycle):
    return cycle.start, cycle.end


def test_cycles_follow_the_calendar():
    assert _span(cycle_containing(date(2026, 11, 20), 1)) == (date(2026, 11, 1), date(2026, 11, 30))
    assert _span(cycle_containing(date(2026, 11, 20), 3)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert _span(cycle_containing(date(2026, 5, 2), 6)) == (date(2026, 1, 1), date(2026, 6, 30))
    assert _span(cycle_containing(date(2026, 2, 28), 12)) == (date(2026, 1, 1), date(2026, 12, 31))
    with pytest.raises(ValueError):
        cycle_containing(date(2026, 1, 1), 5)
    q3 = parse_period("2026-Q3")
    assert [c.start.month for c in cycles_ending_in(q3.start, date(2026, 9, 30), 1)] == [7, 8, 9]
    assert [c.start.month for c in cycles_ending_in(q3.start, date(2026, 9, 30), 3)] == [7]
    assert cycles_ending_in(q3.start, date(2026, 9, 30), 6) == []


def test_balance_fills_the_lightest_first():
    proposals = [Proposal(site=n, cycle=None, template_id="t") for n in range(7)]
    loads = balance(proposals, {n: ["a", "b", "c"] for n in range(7)}, {"a": 3, "b": 0}, ["a", "b", "c"])
    totals = {k: v.total for k, v in loads.items()}
    assert totals == {"a": 4, "b": 3, "c": 3}  # b and c levelled with a's 3 existing, then a tie: order
    assert max(totals.values()) - min(totals.values()) <= 1


def test_spread_days_are_working_days_of_the_month():
    days = spread_days(date(2026, 12, 1), 4)
    assert len(days) == 4 and all(d.month == 12 and d.weekday() < 5 for d in days) and days == sorted(days)
    assert min(spread_days(date(2026, 11, 1), 3, start=TODAY)) >= TODAY


# ---- the database ------------------------------------------------------------------------------

@pytest.fixture
def company(world, create_site, create_template, create_user):
    """Sites of class A (3), B (2), C (1) in department 1; rules A monthly, B quarterly, C half-yearly."""
    d1, d2 = world["depts"]
    u = world["users"]
    tpl = create_template("REC")
    sites = {}
    for code, cls in (("A1", "A"), ("A2", "A"), ("A3", "A"), ("B1", "B"), ("B2", "B"), ("C1", "C")):
        sites[code] = create_site(d1, code, f"门店{code}")
        sites[code].site_class = cls
        sites[code].created_at = datetime(2026, 1, 5, tzinfo=UTC)
    world["sites"][0].site_class = None  # the fixture's own sites: no class, never due
    db.session.commit()
    for cls, months in (("A", 1), ("B", 3), ("C", 6)):
        db.session.add(RecurrenceRule(scope_key="company", site_class=cls, interval_months=months,
                                      template_id=tpl.id, updated_by=u["manager"].id))
    db.session.commit()
    return {"sites": sites, "template": tpl, "users": u, "depts": (d1, d2)}


def _count(model=Visit, **where):
    q = select(func.count()).select_from(model)
    for k, v in where.items():
        q = q.where(getattr(model, k) == v)
    return db.session.scalar(q)


def test_generation_by_class_is_idempotent_and_balanced(app, company):
    u = company["users"]
    before = _count()
    with app.test_request_context():
        preview = ops.plan_generation(date(2027, 1, 1), TODAY)
        assert _count() == before  # a preview writes nothing
        result = ops.generate_visits(u["manager"], date(2027, 1, 1), TODAY)
        db.session.commit()
    # January starts every cycle: all 6 class sites are due.
    assert len(preview.proposals) == len(result.proposals) == 6
    assert _count() == before + 6 and _count(RecurringVisit) == 6
    new = db.session.scalars(select(Visit).join(RecurringVisit, RecurringVisit.visit_id == Visit.id)).all()
    assert all(v.status == "scheduled" and v.scheduled_for.month == 1 and v.due_by == date(2027, 1, 31)
               and v.template_id == company["template"].id and v.plan_id is None for v in new)
    per_sup = {}
    for v in new:
        per_sup[v.supervisor_id] = per_sup.get(v.supervisor_id, 0) + 1
    assert set(per_sup) == {u["sup1"].id, u["sup2"].id} and max(per_sup.values()) - min(per_sup.values()) <= 1

    with app.test_request_context():  # twice: nothing new
        again = ops.generate_visits(u["manager"], date(2027, 1, 1), TODAY)
        db.session.commit()
    assert again.proposals == [] and again.already == 6 and _count() == before + 6

    with app.test_request_context():  # February: only the monthly class A sites are due again
        feb = ops.generate_visits(u["manager"], date(2027, 2, 1), TODAY)
        db.session.commit()
    assert sorted(p.site.code for p in feb.proposals) == ["A1", "A2", "A3"]
    assert feb.spread <= 1


def test_generation_respects_the_load_already_held(app, company, create_visit):
    u = company["users"]
    for _n in range(3):  # sup1 already has 3 visits in January
        v = create_visit(company["sites"]["A1"], u["sup1"])
        v.scheduled_for = date(2027, 1, 10)
    db.session.commit()
    with app.test_request_context():
        result = ops.plan_generation(date(2027, 1, 1), TODAY)
    # A1 has a visit in its cycle already; the other 5 go to the lighter sup2 first.
    assert result.already == 1
    loads = {sid: load.total for sid, load in result.loads.items()}
    assert loads == {u["sup1"].id: 4, u["sup2"].id: 4}
    assert (len(result.loads[u["sup1"].id].new), len(result.loads[u["sup2"].id].new)) == (1, 4)


def test_a_department_rule_overrides_the_company_rule(app, company):
    d1 = company["depts"][0]
    db.session.add(RecurrenceRule(scope_key=d1.id, department_id=d1.id, site_class="B", interval_months=1,
                                  template_id=company["template"].id))
    db.session.commit()
    with app.test_request_context():
        feb = ops.plan_generation(date(2027, 2, 1), TODAY)
    # B is monthly in department 1 now, but its sites have no visit yet in February either way.
    assert {p.site.code for p in feb.proposals} == {"A1", "A2", "A3", "B1", "B2", "C1"}
    assert {p.cycle.interval_months for p in feb.proposals if p.site.code.startswith("B")} == {1}


def test_generation_only_for_this_month_or_later_and_by_management(app, company):
    u = company["users"]
    with app.test_request_context(headers=EN):
        with pytest.raises(PlanError, match="this month or a later one"):
            ops.plan_generation(date(2026, 10, 1), TODAY)
        with pytest.raises(PlanError, match="a year ahead"):
            ops.plan_generation(date(2028, 1, 1), TODAY)
        with pytest.raises(PlanPermissionError):
            ops.generate_visits(u["sup1"], date(2026, 12, 1), TODAY)
        with pytest.raises(PlanPermissionError):
            ops.save_rule(u["admin"], {"site_class": "A", "interval_months": 1, "template_id": "x"})


def test_missed_visits_at_the_pinned_date(app, company, create_visit):
    """Today is 2026-11-20. October (month): the monthly A sites without a completed visit in
    October are missed. Q3: monthly cycles Jul–Sep per A site and the quarterly B cycle."""
    u, s = company["users"], company["sites"]
    done = create_visit(s["A1"], u["sup1"], status="completed")
    done.scheduled_for, done.completed_at = date(2026, 10, 12), datetime(2026, 10, 12, 3, tzinfo=UTC)
    late = create_visit(s["A2"], u["sup2"])  # scheduled in October, never done
    late.scheduled_for = date(2026, 10, 20)
    # completed on 2026-10-31 23:30 in Shanghai = 15:30 UTC: it counts for October
    edge = create_visit(s["A3"], u["sup1"], status="completed")
    edge.scheduled_for, edge.completed_at = date(2026, 10, 31), datetime(2026, 10, 31, 15, 30, tzinfo=UTC)
    q3 = create_visit(s["B1"], u["sup1"], status="completed")
    q3.scheduled_for, q3.completed_at = date(2026, 8, 5), datetime(2026, 8, 5, 2, tzinfo=UTC)
    db.session.commit()
    with app.test_request_context():
        october = ops.missed_visits(parse_period("2026-10"), TODAY, TZ)
        assert [(r.site.code, r.ended, r.supervisor_ids) for r in october] == [("A2", True, [u["sup2"].id])]
        assert ops.missed_visits(parse_period("2026-10"), TODAY, TZ, supervisor_id=u["sup1"].id) == []
        other_dept = ops.missed_visits(parse_period("2026-10"), TODAY, TZ, department_id=company["depts"][1].id)
        assert other_dept == []
        q = ops.missed_visits(parse_period("2026-Q3"), TODAY, TZ)
        rows = sorted((r.site.code, r.cycle.start.month) for r in q)
        # every A site missed Jul, Aug, Sep (no visits then); B1 was done in Q3, B2 was not; C ends in Dec
        assert rows == sorted([(c, m) for c in ("A1", "A2", "A3") for m in (7, 8, 9)] + [("B2", 7)])
        november = ops.missed_visits(parse_period("2026-11"), TODAY, TZ)
        assert {r.site.code for r in november} == {"A1", "A2", "A3"} and not any(r.ended for r in november)
        s["A1"].created_at = datetime(2026, 10, 15, tzinfo=UTC)  # recorded in October: nothing before counts
        db.session.commit()
        assert {r.site.code for r in ops.missed_visits(parse_period("2026-Q3"), TODAY, TZ)} == {"A2", "A3", "B2"}


# ---- pages ------------------------------------------------------------------------------------

def _csrf(client, url="/plans/recurring/"):
    return csrf_from(client.get(url).get_data(as_text=True))


def test_pages_set_a_rule_preview_generate_and_missed(client, auth, company):
    auth.login("manager")
    page = client.get("/plans/recurring/", headers=EN)
    assert page.status_code == 200 and "Visit frequency by site class" in page.get_data(as_text=True)
    token = _csrf(client)
    r = client.post("/plans/recurring/rules", data={"csrf_token": token, "site_class": "C", "interval_months": "12",
                                                   "template_id": company["template"].id})
    assert r.status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(RecurrenceRule.interval_months).where(RecurrenceRule.site_class == "C")) == 12
    bad = client.post("/plans/recurring/rules", data={"csrf_token": token, "site_class": "=CMD()",
                                                     "interval_months": "5", "template_id": "x"}, headers=EN)
    assert bad.status_code == 400 and "Choose" in bad.get_data(as_text=True)
    preview = client.get("/plans/recurring/preview?month=2027-01", headers={**EN, "HX-Request": "true"})
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Load per supervisor in the month" in body and "<html" not in body
    assert "Generate 6 visits" in body
    past = client.get("/plans/recurring/preview?month=2026-01", headers=EN)
    assert past.status_code == 400 and "this month or a later one" in past.get_data(as_text=True)
    junk = client.get("/plans/recurring/preview?month=%00abc", headers=EN)
    assert junk.status_code == 400
    gen = client.post("/plans/recurring/generate", data={"csrf_token": token, "month": "2027-01"})
    assert gen.status_code == 302
    again = client.post("/plans/recurring/generate", data={"csrf_token": token, "month": "2027-01"})
    assert again.status_code == 302
    db.session.rollback()
    assert _count(RecurringVisit) == 6
    missed = client.get("/plans/recurring/missed?period=2026-10", headers=EN)
    assert missed.status_code == 200 and "门店A1" in missed.get_data(as_text=True)
    assert client.get("/plans/recurring/missed?period=nonsense", headers=EN).status_code == 400
    xlsx = client.get("/plans/recurring/missed.xlsx?period=2026-10", headers=EN)
    assert xlsx.status_code == 200
    import io
    ws = load_workbook(io.BytesIO(xlsx.data)).active
    assert ws["A3"].value == "Site" and {ws.cell(row=r, column=1).value for r in range(4, 7)} == {"门店A1", "门店A2", "门店A3"}


@pytest.mark.parametrize(("role", "read", "write"), [
    ("manager", 200, 302), ("admin", 200, 403), ("sup1", 403, 403), ("head1", 403, 403), ("staff1", 403, 403)])
def test_who_may_use_recurring_visits(client, auth, company, role, read, write):
    auth.login(role)
    assert client.get("/plans/recurring/").status_code == read
    assert client.get("/plans/recurring/missed").status_code == read
    token = csrf_from(client.get("/account/").get_data(as_text=True))
    r = client.post("/plans/recurring/generate", data={"csrf_token": token, "month": "2026-12"})
    assert r.status_code == write


def test_the_job_generates_next_month(app, company):
    with app.app_context():
        made = ops.generate_next_month(TODAY)
        db.session.commit()
        assert made == 6  # December: A monthly, B's Q4 cycle has none, C's H2 cycle has none
        assert ops.generate_next_month(TODAY) == 0


def test_the_job_runs_on_the_25th_at_six_shanghai_time(app):
    from datetime import timedelta

    from webapp.jobs import get_huey

    huey = get_huey(app)
    start = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # 2026-11-21 00:00 in Shanghai
    runs = []
    for minute in range(0, 10 * 24 * 60, 10):
        at = start + timedelta(minutes=minute)
        if any(t.name == "recurring_visits" for t in huey.read_periodic(at.replace(tzinfo=None))):
            runs.append(at)
    assert runs == [datetime(2026, 11, 24, 22, 0, tzinfo=UTC)]  # 2026-11-25 06:00 in Shanghai
