"""seed_points(): the ledger of the current and previous quarter and one pending appeal, idempotent, and
harmless on a database without findings."""

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.results.models import PointAppeal, PointEntry
from webapp.results.points.demo import seed_points


def test_seed_points_on_an_empty_database(app):
    assert seed_points() == {"point_rules": 1}
    assert seed_points() == {}


def test_demo_has_a_ledger_and_a_pending_appeal(app):
    from webapp.demo.seed import seed_demo

    first = seed_demo()
    db.session.commit()
    assert first["point_entries"] > 0 and first["point_appeals"] == 1
    appeal = db.session.scalar(select(PointAppeal))
    assert appeal.status == "pending" and appeal.entry.status == "appealed"
    assert appeal.entry.department_id == appeal.entry.department.id
    again = seed_demo()
    assert "point_entries" not in again and "point_appeals" not in again
    assert db.session.scalar(select(func.count()).select_from(PointAppeal)) == 1
    assert db.session.scalar(select(func.count()).select_from(PointEntry)) == first["point_entries"]
