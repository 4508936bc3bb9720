"""The demo opens with a handful of grouped warnings (issue #19: it used to open with 25, one per
finding and several per site): one live warning per kind × subject × problem, some grouping several
occurrences, one acknowledged and one snoozed with a reason; re-seeding adds nothing and sends nothing."""

from collections import Counter
from datetime import date

from sqlalchemy import func, select

from webapp.demo.seed import seed_demo
from webapp.extensions import db
from webapp.models import Notification, Warning
from webapp.results.warnings.operations import open_warning_count

TODAY = date(2026, 11, 20)  # the pinned clock's day


def test_the_demo_opens_with_a_handful_of_grouped_warnings(app):
    seed_demo(today=TODAY)
    db.session.commit()
    live = db.session.scalars(select(Warning).where(Warning.status.in_(("open", "acknowledged")))).all()
    keys = Counter((w.kind, w.subject_type, w.subject_id, w.problem_key) for w in live)
    assert max(keys.values()) == 1  # grouped: never two for one site × problem
    assert 3 <= open_warning_count(TODAY) <= 8, open_warning_count(TODAY)
    assert {w.kind for w in live} == {"high_severity_open", "score_drop", "repeat_problem", "overdue_rectifications"}
    assert sum(w.occurrences for w in live) > len(live)  # some warnings group several occurrences
    repeats = [w for w in live if w.kind == "repeat_problem"]
    assert repeats and all(w.occurrences == w.params["count"] >= 4 and w.problem_key for w in repeats)
    acknowledged = [w for w in live if w.status == "acknowledged"]
    snoozed = [w for w in live if w.snoozed_until and w.snoozed_until > TODAY]
    assert len(acknowledged) == 1 and acknowledged[0].kind == "overdue_rectifications"
    assert len(snoozed) == 1 and snoozed[0].snooze_reason and snoozed[0].snoozed_by is not None
    notes = db.session.scalar(select(func.count()).select_from(Notification).where(Notification.kind.like("warning_%")))

    assert seed_demo(today=TODAY) == {}  # idempotent: same warnings, nothing handled or sent again
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Warning)) == len(live)
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind.like("warning_%"))) == notes
