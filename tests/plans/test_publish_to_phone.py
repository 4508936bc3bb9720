"""Publishing a plan puts its visits on the assigned supervisors' phones, through the real pull."""

from sqlalchemy import select

from tests.conftest import PASSWORD
from webapp.extensions import db
from webapp.models import Visit
from webapp.plans.operations import transition_plan


def _token(client, username):
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD, "device_name": "phone"})
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def _pull(client, headers, cursor=None):
    """Every change after `cursor`, following pages; returns (visit ids seen, new cursor)."""
    seen = set()
    while True:
        url = "/api/v1/sync/pull" + (f"?cursor={cursor}" if cursor is not None else "")
        body = client.get(url, headers=headers).get_json()
        seen |= {c["id"] for c in body["changes"] if c["entity"] == "visit"}
        cursor = body["cursor"]
        if not body["more"]:
            return seen, cursor


def _step(app, who, plan, status):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        transition_plan(who, plan, status)
        db.session.commit()


def test_published_visits_reach_the_assigned_supervisors_pull_only(app, client, world, draft_plan):
    sup1, manager = world["users"]["sup1"], world["users"]["manager"]
    phone1, phone2 = _token(client, "sup1"), _token(client, "sup2")
    seen1, cursor1 = _pull(client, phone1)
    _, cursor2 = _pull(client, phone2)

    _step(app, sup1, draft_plan, "submitted")
    _step(app, manager, draft_plan, "approved")
    assert _pull(client, phone1, cursor1)[0] == set(), "nothing reaches the phone before publishing"

    _step(app, manager, draft_plan, "published")
    visit_ids = set(db.session.scalars(select(Visit.id).where(Visit.plan_id == draft_plan.id)))
    assert len(visit_ids) == 1
    assert _pull(client, phone1, cursor1)[0] == visit_ids
    assert _pull(client, phone2, cursor2)[0] == set()  # another supervisor's phone never sees it
