"""The daily tasks run on their schedule, in Shanghai time, read by huey's own periodic-task logic
(`huey.read_periodic`, what the consumer's scheduler calls each minute), with the clock moved."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.jobs import get_huey
from webapp.models import Notification, Rectification, Warning, WarningRule


def _due_names(huey, at_utc: datetime) -> set[str]:
    return {task.name for task in huey.read_periodic(at_utc.astimezone(UTC).replace(tzinfo=None))}


def test_the_schedule_across_a_shanghai_day(app):
    huey = get_huey(app)
    start = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # 2026-11-21 00:00 in Shanghai
    runs: dict[str, list] = {}
    for minute in range(24 * 60):
        at = start + timedelta(minutes=minute)
        for name in _due_names(huey, at):
            runs.setdefault(name, []).append(at)
    assert len(runs["deliver_outbox_periodic"]) == 24 * 60  # every minute
    assert runs["warnings_check"] == [datetime(2026, 11, 20, 23, 30, tzinfo=UTC)]  # 07:30 Shanghai
    assert runs["overdue_reminders"] == [datetime(2026, 11, 20, 23, 40, tzinfo=UTC)]  # 07:40
    assert runs["photo_renditions"] == [datetime(2026, 11, 20, 19, 0, tzinfo=UTC)]  # 03:00
    assert runs["daily_digest"] == [datetime(2026, 11, 21, 0, 0, tzinfo=UTC)]  # 08:00
    assert len(runs["export_cleanup"]) == 24 and {at.minute for at in runs["export_cleanup"]} == {17}
    assert "recurring_visits" not in runs  # the 25th only


def test_the_daily_digest_runs_at_eight_shanghai_and_sends(app, world, pinned_clock):
    """With the clock moved to 08:00 in Shanghai, huey's scheduler picks `daily_digest`, and running
    it gathers a person's held emails into one digest email."""
    from webapp.notifications.operations import notify
    from webapp.notifications.preferences import set_preferences
    from webapp.outbox.models import OutboxMessage

    app.config.update(MAIL_CATCHER=True, SMTP_HOST=None)
    sup = world["users"]["sup1"]
    sup.email = "sup1@example.cn"
    db.session.commit()
    set_preferences(sup, {}, None, None, email_digest=True)
    db.session.commit()
    notify([sup], "overdue", "消防通道堆放货物")
    db.session.commit()
    huey = get_huey(app)
    pinned_clock.move_to(datetime(2026, 11, 21, 7, 59, 30, tzinfo=UTC) - timedelta(hours=8))  # 07:59:30 Shanghai
    assert "daily_digest" not in _due_names(huey, datetime.now(UTC))
    pinned_clock.shift(timedelta(seconds=40))  # 08:00:10
    due = {t.name: t for t in huey.read_periodic(huey._get_timestamp())}
    assert "daily_digest" in due
    db.session.rollback()
    huey.execute(due["daily_digest"])
    db.session.rollback()
    (digest,) = db.session.scalars(select(OutboxMessage).where(OutboxMessage.event == "notification.digest"))
    assert digest.recipient == sup.id and digest.status == "pending" and digest.idempotency_key.startswith("digest:")


def _overdue_rectification(world, create_finding, n=3):
    for i in range(n):
        f = create_finding(world["visits"][0], f"逾期整改 {i}", status="rectifying")
        db.session.add(Rectification(finding_id=f.id, measures="措施", owner="负责人",
                                     deadline=date(2026, 11, 15), status="rectifying",
                                     submitted_by=world["users"]["head1"].id))
    # no grace period: overdue since the 16th is enough to warn on the 21st (the default waits 14 days)
    db.session.add(WarningRule(kind="overdue_rectifications", threshold=2, active=True, params={"grace_days": 0}))
    db.session.commit()


def test_with_the_clock_moved_the_morning_tasks_run_and_do_their_work(app, world, create_finding, pinned_clock):
    huey = get_huey(app)
    _overdue_rectification(world, create_finding)
    pinned_clock.move_to(datetime(2026, 11, 21, 7, 29, 30, tzinfo=UTC) - timedelta(hours=8))  # 07:29:30 Shanghai
    assert "warnings_check" not in _due_names(huey, datetime.now(UTC))
    pinned_clock.shift(timedelta(seconds=40))  # 07:30:10
    due = huey.read_periodic(huey._get_timestamp())  # as the consumer's scheduler asks
    assert {t.name for t in due} == {"deliver_outbox_periodic", "warnings_check", "dashboard_refresh"}  # :30
    for task in due:
        huey.execute(task)
    db.session.rollback()
    warning = db.session.scalar(select(Warning))
    assert warning is not None and warning.kind == "overdue_rectifications" and warning.params["count"] == 3
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "warning_overdue_rectifications")) == 1  # the manager

    db.session.rollback()  # end the test's read (SQLite: the task's session needs the writer lock)
    pinned_clock.shift(timedelta(minutes=10))  # 07:40:10
    due = huey.read_periodic(huey._get_timestamp())
    assert "overdue_reminders" in {t.name for t in due}
    for task in due:
        huey.execute(task)
    db.session.rollback()
    reminders = db.session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "overdue"))
    assert reminders == 3 * 2  # each finding: the department head and the supervisor
