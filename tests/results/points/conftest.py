"""A small company for the ledger: two departments, people, every role, the seeded-style rules, and
helpers that make findings, rectifications and acceptance rounds at given local times."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from tests.review_helpers import _release_test_transaction  # noqa: F401
from webapp.extensions import db
from webapp.org.models import Person
from webapp.rectification.models import AcceptanceRound, Rectification
from webapp.results.models import PointRule
from webapp.results.periods import parse_period

LOCAL = ZoneInfo("Asia/Shanghai")
Q3, Q4 = parse_period("2026-Q3"), parse_period("2026-Q4")
TODAY = date(2026, 12, 15)  # inside Q4

RULES = [
    ("DED-LOW", "finding_severity", "low", -1, "department"),
    ("DED-MED", "finding_severity", "medium", -2, "department"),
    ("DED-HIGH", "finding_severity", "high", -5, "department"),
    ("BONUS-FIRST", "accepted_first_round_on_time", None, 3, "department"),
    ("DED-OVERDUE", "overdue", None, -3, "department"),
    ("DED-FAILED", "acceptance_failed", None, -2, "department"),
]


def local(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LOCAL)


@pytest.fixture
def ledger(world):
    d1, d2 = world["depts"]
    for f in world["findings"]:  # out of every period tested, so the counts below are exact
        f.captured_at = local(2020, 1, 1)
    rules = {}
    for code, trigger, severity, points, applies_to in RULES:
        rules[code] = PointRule(code=code, name=code, trigger=trigger, severity=severity, points=points,
                                applies_to=applies_to)
        db.session.add(rules[code])
    people = {"甲": Person(name="员工甲", department_id=d1.id), "乙": Person(name="员工乙", department_id=d2.id)}
    db.session.add_all(people.values())
    db.session.commit()
    return {**world, "rules": rules, "people": people}


@pytest.fixture
def finding_at(ledger, create_finding):
    """A finding of department 1 (visit 1) or 2 captured at a local time."""
    def make(when, severity="medium", dept=1, **kw):
        visit = ledger["visits"][dept - 1]
        return create_finding(visit, f"问题 {when:%m-%d %H:%M} {severity}", severity=severity, captured_at=when, **kw)

    return make


@pytest.fixture
def rectify(ledger):
    """A rectification of `finding` in a given state; `fails` = local times of failed rounds."""
    def make(finding, status="rectifying", deadline=date(2026, 11, 30), accepted_at=None, fails=(),
             created_at=None):
        rect = Rectification(finding_id=finding.id, measures="措施", owner="负责人", deadline=deadline,
                             status=status, round=1 + len(fails), submitted_by=ledger["users"]["head1"].id,
                             accepted_at=accepted_at, created_at=created_at or local(2026, 10, 1))
        db.session.add(rect)
        db.session.flush()
        for n, when in enumerate(fails, start=1):
            db.session.add(AcceptanceRound(rectification_id=rect.id, round=n, result="fail", reason="未完成",
                                           new_deadline=deadline, decided_by=ledger["users"]["sup1"].id,
                                           decided_at=when))
        db.session.commit()
        return rect

    return make


def at_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, LOCAL)
