"""Demo points: a person rule, the ledger of the current and previous quarter, and one pending appeal
by the demo department head. Idempotent; works on whatever findings and rectifications exist."""

from datetime import datetime

from sqlalchemy import select

from webapp.auth.models import User
from webapp.demo.keys import demo_id
from webapp.extensions import db
from webapp.results.models import PointAppeal, PointEntry, PointRule
from webapp.results.periods import period_containing
from webapp.results.points.operations import appeal_entry, company_tz, post_points


def seed_points() -> dict:

    added = {}
    if db.session.get(PointRule, demo_id("rule:PER-HIGH")) is None:
        db.session.add(PointRule(id=demo_id("rule:PER-HIGH"), code="PER-HIGH", name="严重问题责任人扣分",
                                 trigger="finding_severity", severity="high", points=-1, applies_to="person"))
        db.session.flush()
        added["point_rules"] = 1
    current = period_containing(datetime.now(company_tz()).date(), "quarter")
    posted = sum(post_points(p).total_added for p in (current.previous(), current))
    if posted:
        added["point_entries"] = posted
    head = db.session.scalar(select(User).where(User.username == "depthead"))
    already = head is not None and db.session.scalar(
        select(PointAppeal.id).where(PointAppeal.appellant_id == head.id).limit(1)) is not None
    if head is not None and head.department_id and not already:
        entry = db.session.scalar(select(PointEntry).where(
            PointEntry.department_id == head.department_id, PointEntry.person_id.is_(None),
            PointEntry.status == "active", PointEntry.points < 0).order_by(PointEntry.occurred_at.desc()).limit(1))
        if entry is not None:
            # Through the operation, so the managers are notified as they would be.
            appeal_entry(entry, head, "该问题系系统升级导致的临时排队，已于当日恢复，申请撤销扣分。")
            added["point_appeals"] = 1
    return added
