"""The SQL twins of the rectification outcome definitions select exactly the rows the Python ones accept."""

from datetime import UTC, date, datetime, timedelta
from itertools import product

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Finding
from webapp.rectification import outcomes
from webapp.rectification.models import Rectification

TZ = "Asia/Shanghai"
TODAY = date(2026, 11, 20)
DEADLINE = date(2026, 11, 10)
# Accepted at these UTC moments; local (UTC+8) days in the comments.
ACCEPTED = [
    None,
    datetime(2026, 11, 10, 15, 30, tzinfo=UTC),  # 11-10 23:30 local: on the deadline day
    datetime(2026, 11, 10, 16, 30, tzinfo=UTC),  # 11-11 00:30 local: a day late, though still 11-10 in UTC
    datetime(2026, 11, 9, 16, 0, tzinfo=UTC),  # 11-10 00:00 local
    datetime(2026, 11, 3, 2, 0, tzinfo=UTC),
    datetime(2026, 11, 18, 2, 0, tzinfo=UTC),
]


@pytest.fixture
def rects(app, create_department, create_site, create_user, create_visit):
    dept = create_department()
    site = create_site(dept)
    sup = create_user("sup")
    visit = create_visit(site, sup, status="completed")
    made = []
    for n, (status, rnd, accepted, shift) in enumerate(product(
            ("rectifying", "pending_acceptance", "accepted"), (1, 2), ACCEPTED, (-15, 0, 15))):
        if (status == "accepted") != (accepted is not None):
            continue
        f = Finding(visit_id=visit.id, site_id=site.id, supervisor_id=sup.id, title=f"f{n}", severity="low",
                    department_id=dept.id, captured_at=datetime(2026, 11, 1, tzinfo=UTC))
        db.session.add(f)
        db.session.flush()
        r = Rectification(finding_id=f.id, measures="m", owner="o", deadline=DEADLINE + timedelta(days=shift),
                          status=status, round=rnd, submitted_by=sup.id, accepted_at=accepted)
        db.session.add(r)
        made.append(r)
    db.session.commit()
    return made


@pytest.mark.parametrize("name, python, sql", [
    ("first round", outcomes.accepted_first_round, outcomes.accepted_first_round_clause),
    ("on time", lambda r: outcomes.accepted_on_time(r, TZ), lambda: outcomes.accepted_on_time_clause(TZ)),
    ("due", lambda r: outcomes.is_due(r, TODAY), lambda: outcomes.is_due_clause(TODAY)),
    ("decided", outcomes.acceptance_decided, outcomes.acceptance_decided_clause),
    ("overdue", lambda r: outcomes.is_overdue(r, TODAY), lambda: outcomes.is_overdue_clause(TODAY)),
])
def test_python_and_sql_definitions_agree(rects, name, python, sql):
    in_sql = set(db.session.scalars(select(Rectification.id).where(sql())))
    in_python = {r.id for r in rects if python(r)}
    assert in_sql == in_python, name
    assert 0 < len(in_python) < len(rects), f"{name}: the data must contain both cases"


def test_on_time_is_judged_on_the_local_day(rects):
    on_time = set(db.session.scalars(select(Rectification.id).where(outcomes.accepted_on_time_clause(TZ))))
    by_moment = {(r.accepted_at, r.deadline): r.id for r in rects if r.status == "accepted"}
    assert by_moment[(ACCEPTED[1], DEADLINE)] in on_time  # 23:30 local on the deadline day
    assert by_moment[(ACCEPTED[2], DEADLINE)] not in on_time  # 00:30 local the next day
