"""flask seed-scale: a large company by bulk inserts, consistent with the dashboard's tallies."""

from datetime import date

from sqlalchemy import func, select

from tests.results.dashboard.test_tallies import snapshot
from webapp.demo.scale import seed_scale
from webapp.extensions import db
from webapp.models import AcceptanceRound, Finding, Rectification, User, Visit
from webapp.results.dashboard import measures as m
from webapp.results.dashboard import tallies
from webapp.results.dashboard.operations import build_dashboard
from webapp.results.periods import period_containing

TODAY = date(2026, 11, 20)


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_scale_builds_a_consistent_company(app):
    result = seed_scale(600, seed=7, today=TODAY, years=2)
    assert result["findings"] == count(Finding) == 600
    assert result["rectifications"] == count(Rectification) > 400
    assert count(AcceptanceRound) >= count(Rectification.__table__.select().where(
        Rectification.status == "accepted").subquery())
    assert result["visits"] == count(Visit)
    # every finding belongs to a visit of its site, captured on the visit's day, no later than today
    assert db.session.scalar(select(func.max(Finding.captured_at))).date() <= TODAY
    assert db.session.scalar(select(func.count()).select_from(Finding).join(Visit, Visit.id == Finding.visit_id)
                             .where(Visit.site_id != Finding.site_id)) == 0
    # outcomes of every kind, repeats included
    statuses = set(db.session.scalars(select(Rectification.status).distinct()))
    assert {"accepted", "rectifying", "pending_acceptance"} <= statuses
    assert db.session.scalar(select(func.max(Rectification.round))) >= 2
    assert db.session.scalar(select(func.count(Finding.repeat_of_id))) > 0
    # the tallies were rebuilt: they equal a recount, and the dashboard equals the raw measures
    kept = snapshot()
    tallies.rebuild()
    assert snapshot() == kept
    manager = db.session.scalar(select(User).where(User.username == "scale-manager"))
    for kind in ("quarter", "year"):
        f = m.Filters(manager)
        period = period_containing(TODAY, kind)
        assert build_dashboard(f, period, TODAY, "Asia/Shanghai", source=m) == \
            build_dashboard(f, period, TODAY, "Asia/Shanghai", source=tallies)


def test_command(app):
    result = app.test_cli_runner().invoke(args=["seed-scale", "--findings", "150", "--today", "2026-11-20",
                                                "--years", "1"])
    assert result.exit_code == 0, result.output
    assert "findings 150" in result.output
    assert count(Finding) == 150


def test_seed_scale_sets_the_rectification_deadline_copies(app):
    from tests.rectification.test_deadlines import every_copy_is_right

    seed_scale(400, seed=3, today=TODAY, years=1)
    assert every_copy_is_right()
    assert db.session.scalar(select(func.count()).select_from(Finding)
                             .where(Finding.rectification_deadline.is_not(None))) > 0
