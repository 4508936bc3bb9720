"""Hand-made data with known answers for the dashboard's measures (see the comments for each KPI).

Period under test: 2026-Q3 (local time, Asia/Shanghai = UTC+8), seen on TODAY = 2026-11-20, so the
previous window is the whole of 2026-Q2.

Q3 findings                                        rectification
  f1 A/SA low       Jul 1 00:30 local (Jun 30 UTC)  accepted round 1, deadline Jul 20, accepted Jul 20 23:00 local → on time
  f2 A/SA high                                      accepted round 2 (failed once), deadline Aug 30, accepted Aug 29 → on time
  f3 A/SA critical  item P1, repeat of g1           rectifying, deadline Nov 1 → overdue
  f4 A/SA medium    Sep 30 23:30 local              pending acceptance, deadline Dec 1 → not due, not decided
  f5 B/SB high                                      accepted round 1, deadline Aug 1, accepted Aug 2 00:30 local → late
  (deleted finding in A, and one at Oct 1 00:10 local = Sep 30 UTC, both not counted)
Q2 findings: g1 A/SA low item P1 (rectifying, deadline Jun 1 → overdue), g2 B/SB medium, g3 B/SB low.

Expected for Q3: findings 5, high+critical 3 (60 %), repeats 1; due 4, on time 2 (50 %);
decided 3, first round 2 (66.7 %); overdue now 2 (1 from Q3). Plan visits in Q3: 3, completed 2.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from webapp.extensions import db
from webapp.models import Finding, Visit
from webapp.plans.models import Plan
from webapp.rectification.models import Rectification

LOCAL = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 20)
TZ = "Asia/Shanghai"


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL)


@pytest.fixture
def kpi(app, create_department, create_site, create_user, create_template):
    a, b = create_department("A", "甲部"), create_department("B", "乙部")
    sa, sb = create_site(a, "SA", "甲场所"), create_site(b, "SB", "乙场所")
    sup = create_user("sup1", "supervisor")
    manager = create_user("manager", "manager")
    head_b = create_user("headb", "dept_head", department=b)
    tpl = create_template()
    p1 = next(i for i in tpl.items if i.code == "P1")
    plan = Plan(title="计划", period_type="quarterly", period_start=date(2026, 7, 1), period_end=date(2026, 9, 30),
                status="published", author_id=sup.id)
    db.session.add(plan)
    db.session.flush()

    def visit(site, day, status="completed", plan_id=plan.id):
        v = Visit(site_id=site.id, department_id=site.department_id, template_id=tpl.id, supervisor_id=sup.id,
                  status=status, scheduled_for=day, plan_id=plan_id)
        db.session.add(v)
        db.session.flush()
        return v

    v_sa, v_sb = visit(sa, date(2026, 7, 10)), visit(sb, date(2026, 8, 10))
    visit(sa, date(2026, 9, 20), status="scheduled")  # missed
    visit(sb, date(2026, 9, 21), plan_id=None)  # not planned: not counted
    visit(sa, date(2026, 10, 5))  # Q4
    v_q2 = visit(sa, date(2026, 5, 5), plan_id=None)
    v_q2b = visit(sb, date(2026, 5, 6), plan_id=None)

    def finding(v, title, severity, at, area="process", item=None, status="open", **kw):
        f = Finding(visit_id=v.id, site_id=v.site_id, department_id=v.department_id, supervisor_id=sup.id,
                    title=title, severity=severity, area=area, item_id=item.id if item else None, status=status,
                    captured_at=at, **{"review_status": "confirmed", **kw})
        db.session.add(f)
        db.session.flush()
        return f

    def rect(f, status, deadline, round_=1, accepted_at=None):
        db.session.add(Rectification(finding_id=f.id, measures="m", owner=f"owner-{f.title}", deadline=deadline,
                                     status=status, round=round_, submitted_by=sup.id, accepted_at=accepted_at))

    g1 = finding(v_q2, "g1", "low", local(2026, 5, 5, 10), item=p1, status="rectifying")
    finding(v_q2b, "g2", "medium", local(2026, 5, 6, 10))
    finding(v_q2b, "g3", "low", local(2026, 5, 6, 11))
    rect(g1, "rectifying", date(2026, 6, 1))

    f1 = finding(v_sa, "f1", "low", local(2026, 7, 1, 0, 30), status="closed")
    f2 = finding(v_sa, "f2", "high", local(2026, 7, 10, 10), status="closed")
    f3 = finding(v_sa, "f3", "critical", local(2026, 7, 10, 11), area="risk", item=p1, status="rectifying")
    f4 = finding(v_sa, "f4", "medium", local(2026, 9, 30, 23, 30), area="risk", status="pending_acceptance")
    f5 = finding(v_sb, "f5", "high", local(2026, 8, 10, 10), status="closed")
    finding(v_sa, "deleted", "critical", local(2026, 8, 1, 10), deleted_at=datetime(2026, 8, 2, tzinfo=UTC))
    finding(v_sa, "october", "critical", local(2026, 10, 1, 0, 10))
    rect(f1, "accepted", date(2026, 7, 20), accepted_at=local(2026, 7, 20, 23))
    rect(f2, "accepted", date(2026, 8, 30), round_=2, accepted_at=local(2026, 8, 29, 15))
    rect(f3, "rectifying", date(2026, 11, 1))
    rect(f4, "pending_acceptance", date(2026, 12, 1))
    rect(f5, "accepted", date(2026, 8, 1), accepted_at=local(2026, 8, 2, 0, 30))
    db.session.commit()
    assert f3.repeat_of_id == g1.id  # set by webapp/findings/repeats.py
    return {"a": a, "b": b, "sa": sa, "sb": sb, "sup": sup, "manager": manager, "head_b": head_b, "p1": p1,
            "f": {f.title: f for f in (f1, f2, f3, f4, f5, g1)}}
