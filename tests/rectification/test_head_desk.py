"""A department head's desk (issue #19, 9): the home shows their own deadlines — overdue, due,
failed at acceptance, awaiting acceptance, waiting for a plan — not the supervisors' visits; the
rectification page shows the finding's photos (before) beside the progress photos (after)."""

from datetime import date, timedelta

from tests.review_helpers import post
from webapp.extensions import db
from webapp.rectification import operations as ops
from webapp.rectification.models import Rectification

TODAY = date(2026, 11, 20)  # the pinned today
BEFORE, AFTER = "b" * 64, "a" * 64


def _loop(world, create_finding):
    """Department 1: one overdue, one due, one failed once, one awaiting, one open; department 2: one due."""
    head, sup = world["users"]["head1"], world["users"]["sup1"]
    v1, v2 = world["visits"]
    made = {}
    for key in ("overdue", "due", "failed", "awaiting"):
        f = create_finding(v1, f"一部-{key}")
        ops.submit_plan(f, head, "措施", "责任人", TODAY + timedelta(days=5))
        made[key] = f
    made["open"] = create_finding(v1, "一部-open")
    create_finding(v1, "一部-待审核", review_status="pending")  # management's turn: no plan awaited yet
    other = world["findings"][1]
    ops.submit_plan(other, world["users"]["head2"], "措施", "责任人", TODAY + timedelta(days=3))
    ops.submit_for_acceptance(made["failed"], head)
    ops.decide_acceptance(made["failed"], sup, "fail", "照片不清楚", TODAY + timedelta(days=8))
    ops.submit_for_acceptance(made["awaiting"], head)
    db.session.flush()
    rect = db.session.query(Rectification).filter_by(finding_id=made["overdue"].id).one()
    rect.deadline = TODAY - timedelta(days=2)
    db.session.commit()
    return made


def test_the_worklist_groups_the_heads_own_deadlines(world, create_finding):
    made = _loop(world, create_finding)
    w = ops.head_worklist(world["users"]["head1"], TODAY)
    titles = {k: [f.title for f, _r in w[k]] for k in ("overdue", "due", "failed", "awaiting")}
    assert titles == {"overdue": ["一部-overdue"], "due": ["一部-due"], "failed": ["一部-failed"],
                      "awaiting": ["一部-awaiting"]}
    assert "一部-open" in [f.title for f in w["to_plan"]] and made["open"] in w["to_plan"]
    assert "一部-待审核" not in [f.title for f in w["to_plan"]]
    assert w["counts"] == {"overdue": 1, "due": 1, "failed": 1, "awaiting": 1, "to_plan": 2}
    # department 2's head sees only theirs
    w2 = ops.head_worklist(world["users"]["head2"], TODAY)
    assert [f.title for f, _r in w2["due"]] == ["二部的问题"] and not w2["overdue"]


def test_the_heads_home_shows_their_deadlines_not_the_visits(client, auth, world, create_finding):
    _loop(world, create_finding)
    auth.login("head1")
    for lang, words in (("zh-CN", ("我的整改", "已逾期", "验收未通过")), ("en", ("My rectifications", "Overdue",
                                                                       "Acceptance failed: rectify again"))):
        html = client.get("/", headers={"Accept-Language": lang}).get_data(as_text=True)
        for word in words:
            assert word in html, (lang, word)
        assert "一部-overdue" in html and "二部的问题" not in html
        assert 'id="h-overdue-visits"' not in html
    # a supervisor's home is unchanged
    auth.logout()
    auth.login("sup1")
    assert 'id="h-my-rect"' not in client.get("/").get_data(as_text=True)


def test_the_rectification_page_shows_before_beside_after(client, auth, world):
    f = world["findings"][0]
    f.photos = [BEFORE]
    head = world["users"]["head1"]
    ops.submit_plan(f, head, "措施", "责任人", TODAY + timedelta(days=5))
    ops.add_progress(f, head, "已整改", 100, [AFTER])
    ops.submit_for_acceptance(f, head)
    db.session.commit()
    auth.login("sup1")
    html = client.get(f"/rectification/{f.id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    before = html.split('id="ba-before"')[1].split("</figure>")[0]
    after = html.split('id="ba-after"')[1].split("</figure>")[0]
    assert BEFORE in before and AFTER not in before
    assert AFTER in after and "整改后" in after
    # and the supervisor can accept right there
    r = post(client, f"/rectification/{f.id}/decide", {"result": "pass"})
    assert r.status_code == 303


def test_the_feed_marks_overdue(client, world, create_finding):
    from tests.sync.conftest import Device

    made = _loop(world, create_finding)
    rows = Device(client, world["users"]["head1"]).get("/api/v1/rectifications").get_json()["rectifications"]
    by_title = {r["finding_id"]: r for r in rows}
    assert by_title[made["overdue"].id]["overdue"] is True
    assert by_title[made["failed"].id]["round"] == 2 and by_title[made["failed"].id]["last_reason"] == "照片不清楚"
    assert by_title[made["awaiting"].id]["status"] == "pending_acceptance"
    assert made["open"].id not in by_title
