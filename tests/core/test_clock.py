"""The company's day (webapp/core/clock.py): deadlines and overdue flags follow the company's calendar
(Asia/Shanghai by default), not the server's, which in UTC is a day behind from 00:00 to 08:00 there."""

from datetime import UTC, date, datetime

import time_machine

from tests.conftest import csrf_from
from webapp.core.clock import company_today
from webapp.extensions import db
from webapp.rectification.models import Rectification

# 01:00 on 21 November in Shanghai; still the 20th in UTC.
SHANGHAI_AFTER_MIDNIGHT = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


def test_today_is_the_companys(app):
    with time_machine.travel(SHANGHAI_AFTER_MIDNIGHT, tick=False), app.app_context():
        assert company_today() == date(2026, 11, 21)
        app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
        try:
            assert company_today() == date(2026, 11, 20)
        finally:
            app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Shanghai"


def test_past_midnight_in_shanghai_yesterdays_deadline_is_overdue_and_refused(world, create_finding, client, auth):
    head1 = world["users"]["head1"]
    due = create_finding(world["visits"][0], "昨日到期", status="rectifying", captured_at=datetime(2026, 11, 1, tzinfo=UTC))
    db.session.add(Rectification(finding_id=due.id, measures="整改", owner="吴敏", deadline=date(2026, 11, 20),
                                 status="rectifying", round=1, submitted_by=head1.id))
    open_one = create_finding(world["visits"][0], "待整改", status="open", captured_at=datetime(2026, 11, 2, tzinfo=UTC))
    db.session.commit()
    with time_machine.travel(SHANGHAI_AFTER_MIDNIGHT, tick=False):
        auth.login("manager")
        listed = client.get("/rectification/?overdue=1", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "昨日到期" in listed and "Overdue</span>" in listed
        auth.logout()
        auth.login("head1")
        page = client.get(f"/rectification/{open_one.id}").get_data(as_text=True)
        r = client.post(f"/rectification/{open_one.id}/plan", headers={"Accept-Language": "en"},
                        data={"measures": "更换", "owner": "吴敏", "deadline": "2026-11-20", "csrf_token": csrf_from(page)})
        assert r.status_code == 409 and "The deadline cannot be in the past." in r.get_data(as_text=True)
