"""Demo: evaluate the seeded warning rules (the defaults) against whatever data exists, then let the
demo manager handle two of the new warnings so every state shows: the biggest overdue group is
acknowledged, the oldest high-severity one snoozed for two weeks with a reason. Idempotent by design:
a second run groups into the same warnings and handles nothing again."""

from datetime import date, timedelta

from sqlalchemy import select

from webapp.auth.models import User
from webapp.core.clock import company_today
from webapp.extensions import db
from webapp.results.warnings.operations import (
    acknowledge_warning,
    check_warnings,
    snooze_warning,
)


def seed_warnings(today: date | None = None) -> dict:
    today = today or company_today()
    result = check_warnings(today)
    manager = db.session.scalar(select(User).where(User.username == "manager"))
    if manager is not None and result.raised:
        overdue = sorted((w for w in result.raised if w.kind == "overdue_rectifications"),
                         key=lambda w: -w.occurrences)
        if overdue:
            acknowledge_warning(overdue[0], manager)
        severe = sorted((w for w in result.raised if w.kind == "high_severity_open"),
                        key=lambda w: (w.last_seen_on or today, w.id))
        if severe:
            snooze_warning(severe[0], manager, today + timedelta(days=14),
                           "整改方案已报批，等待设备更换；两周后复查。", today)
    return {"warnings": len(result.raised)} if result.raised else {}
