"""Evidence tests: a site with coordinates, devices that send their clock."""

from datetime import UTC, datetime

import pytest

from tests.sync.conftest import Device, device, new_id  # noqa: F401  (re-exported for the tests)
from webapp.extensions import db

SITE = (31.2304, 121.4737)  # 人民广场, Shanghai


@pytest.fixture
def placed(world):
    """The world's first site placed at SITE with a 200 m geofence."""
    s1 = world["sites"][0]
    s1.lat, s1.lng, s1.geofence_radius_m = *SITE, 200
    db.session.commit()
    return world


class ClockDevice(Device):
    """A device whose clock is `skew` off the server's (negative: behind)."""

    def __init__(self, client, user, skew=None):
        super().__init__(client, user)
        self.skew = skew

    def now(self):
        t = datetime.now(UTC)
        return t + self.skew if self.skew is not None else t

    def push(self, *mutations, expect=200):
        db.session.commit()
        body = {"device_id": self.device_id, "mutations": list(mutations), "device_time": self.now().isoformat()}
        r = self.client.post("/api/v1/sync/push", json=body, headers=self.headers)
        assert r.status_code == expect, r.get_data(as_text=True)
        return r.get_json()["results"] if expect == 200 else r.get_json()


@pytest.fixture
def clock_device(client):
    def make(user, skew=None):
        return ClockDevice(client, user, skew)

    return make


def approved_report(app, visit, author, approver):
    """The visit's report, frozen and approved as the manager's approval does it: (report, snapshot)."""
    from webapp.reports.models import Report
    from webapp.reports.snapshots import freeze_report

    report = Report(visit_id=visit.id, title="督导报告", author_id=author.id)
    db.session.add(report)
    db.session.flush()
    with app.test_request_context():
        snap = freeze_report(report, approver)
    report.status = "approved"
    db.session.commit()
    return report, snap
