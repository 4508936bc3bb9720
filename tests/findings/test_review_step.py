"""The review step of a synced finding (webapp/findings/review.py): confirm, correct, reject with a
reason the supervisor sees, merge; only confirmed findings count and start rectification; the
phone's copy follows; authorization by URL, CSRF and hostile text."""

from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from
from tests.review_helpers import post
from tests.sync.conftest import Device, new_id
from webapp.extensions import db
from webapp.findings import review as ops
from webapp.findings.models import Finding, FindingComment, FindingReview
from webapp.findings.operations import NotAllowed, WorkflowError
from webapp.rectification import operations as rect_ops
from webapp.results.dashboard import measures
from webapp.sync_store.models import Revision

DEADLINE = date(2026, 12, 20)
EN = {"Accept-Language": "en"}


@pytest.fixture
def pending(world, create_finding):
    v1 = world["visits"][0]
    return [create_finding(v1, "消防通道堵塞", severity="medium", review_status="pending", photos=["a" * 64]),
            create_finding(v1, "后仓通道堆放纸箱", severity="high", review_status="pending", photos=["b" * 64])]


def test_confirm_counts_it_and_opens_rectification(world, pending):
    f, manager, head = pending[0], world["users"]["manager"], world["users"]["head1"]
    with pytest.raises(WorkflowError):  # pending: rectification does not start yet
        rect_ops.submit_plan(f, head, "清理", "吴敏", DEADLINE)
    db.session.rollback()
    ops.confirm_finding(f, manager)
    db.session.commit()
    assert f.review_status == "confirmed" and f.reviewed_by == manager.id
    rect_ops.submit_plan(f, head, "清理", "吴敏", DEADLINE)
    db.session.commit()
    assert f.status == "rectifying"
    with pytest.raises(WorkflowError):  # rectification started: no longer rejected
        ops.reject_finding(f, manager, "不是问题")


def test_correct_records_who_when_why_and_a_revision(world, pending):
    f, manager = pending[0], world["users"]["manager"]
    before = f.version
    changes = ops.correct_finding(f, manager, {"severity": "high", "title": "消防通道被堵"}, "现场照片显示堵塞严重")
    db.session.commit()
    assert changes == {"title": ["消防通道堵塞", "消防通道被堵"], "severity": ["medium", "high"]}
    log = db.session.scalars(select(FindingReview).where(FindingReview.finding_id == f.id)).one()
    assert (log.action, log.user_id, log.reason) == ("correct", manager.id, "现场照片显示堵塞严重")
    rev = db.session.scalars(select(Revision).where(Revision.record_id == f.id, Revision.version == before + 1)).one()
    assert rev.changed["severity"] == "high" and rev.data["review_status"] == "pending"
    with pytest.raises(WorkflowError):  # a correction needs a reason
        ops.correct_finding(f, manager, {"severity": "low"}, "  ")
    with pytest.raises(WorkflowError):  # and a change
        ops.correct_finding(f, manager, {"severity": "high"}, "同上")


def test_reject_keeps_the_finding_with_a_reason_not_counted(world, pending, app):
    f, manager = pending[0], world["users"]["manager"]
    with pytest.raises(WorkflowError):
        ops.reject_finding(f, manager, "")
    ops.reject_finding(f, manager, "货物为临时卸货，10 分钟内已移走")
    db.session.commit()
    assert f.review_status == "rejected" and f.review_reason.startswith("货物") and f.deleted_at is None


def test_merge_moves_photos_and_comments_and_points_to_the_survivor(world, pending):
    dup, survivor = pending
    manager = world["users"]["manager"]
    db.session.add(FindingComment(finding_id=dup.id, author_id=manager.id, body="同一问题"))
    db.session.commit()
    ops.merge_findings(dup, survivor, manager, "同一处通道")
    db.session.commit()
    assert dup.review_status == "merged" and dup.merged_into_id == survivor.id
    assert sorted(survivor.photos) == ["a" * 64, "b" * 64]
    assert [c.body for c in db.session.scalars(select(FindingComment).where(FindingComment.finding_id == survivor.id))] \
        == ["同一问题"]
    actions = sorted(db.session.scalars(select(FindingReview.action)))
    assert actions == ["merge", "merged_in"]
    with pytest.raises(WorkflowError):  # a merged finding is final
        ops.confirm_finding(dup, manager)
    with pytest.raises(WorkflowError):
        ops.merge_findings(survivor, survivor, manager, None)


@pytest.mark.parametrize("who", ["sup1", "head1", "staff1"])
def test_only_management_reviews(world, pending, who):
    with pytest.raises(NotAllowed):
        ops.confirm_finding(pending[0], world["users"][who])


def test_kpis_count_confirmed_only(world, pending, app):
    manager = world["users"]["manager"]
    tz = app.config["BABEL_DEFAULT_TIMEZONE"]
    with app.test_request_context():
        total = lambda: measures.finding_counts(measures.Filters(manager), None, tz)[()].total  # noqa: E731
        assert total() == 2  # the world's two confirmed findings; the two pending are not counted
        assert ops.awaiting_review_count(manager) == 2
        ops.confirm_finding(pending[0], manager)
        ops.reject_finding(pending[1], manager, "不是问题")
        db.session.flush()
        assert total() == 3 and ops.awaiting_review_count(manager) == 0


def test_a_phone_finding_awaits_review_and_the_phone_sees_the_rejection(world, client):
    sup1 = Device(client, world["users"]["sup1"])
    fid = new_id()
    res = sup1.push_one("finding", fid, {"visit_id": world["visits"][0].id, "title": "灭火器过期",
                                         "review_status": "confirmed"})  # a device's copy is ignored
    assert res["status"] == "applied", res
    f = db.session.get(Finding, fid)
    assert f.review_status == "pending"
    ops.reject_finding(f, world["users"]["manager"], "灭火器在有效期内")
    db.session.commit()
    change = [c for c in sup1.pull_all()[0] if c["id"] == fid][-1]
    assert change["data"]["review_status"] == "rejected" and change["data"]["review_reason"] == "灭火器在有效期内"
    # the phone cannot confirm it itself: its copy of the review is ignored
    sup1.push_one("finding", fid, {"review_status": "confirmed", "review_reason": None}, base_version=change["version"])
    db.session.expire_all()
    assert db.session.get(Finding, fid).review_status == "rejected"


def test_a_phone_cannot_edit_a_merged_finding(world, client, pending):
    dup, survivor = pending
    ops.merge_findings(dup, survivor, world["users"]["manager"], None)
    db.session.commit()
    sup1 = Device(client, world["users"]["sup1"])
    res = sup1.push_one("finding", dup.id, {"title": "改标题"}, base_version=dup.version)
    assert res["status"] == "rejected"


# ---- the pages ------------------------------------------------------------------------------

def test_queue_and_review_by_form(world, pending, client, auth):
    auth.login("manager")
    html = client.get("/findings/review", headers=EN).get_data(as_text=True)
    assert "消防通道堵塞" in html and "2 findings await review." in html
    r = post(client, f"/findings/{pending[0].id}/review/confirm", {"next": "queue"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/findings/review")
    r = post(client, f"/findings/{pending[1].id}/review/correct",
             {"title": "后仓通道堆放纸箱", "severity": "critical", "area": "risk", "reason": "影响疏散"})
    assert r.status_code == 303
    html = client.get(f"/findings/{pending[1].id}", headers=EN).get_data(as_text=True)
    assert "Corrected" in html and "影响疏散" in html and "Critical" in html and "severity" not in html.lower().split("class=")[0]
    r = post(client, f"/findings/{pending[1].id}/review/reject", {"reason": ""}, headers=EN)
    assert r.status_code == 409 and "Give a reason." in r.get_data(as_text=True)


def test_supervisor_sees_the_reason_on_the_desk(world, pending, client, auth):
    ops.reject_finding(pending[0], world["users"]["manager"], "临时卸货")
    db.session.commit()
    auth.login("sup1")
    html = client.get(f"/findings/{pending[0].id}", headers=EN).get_data(as_text=True)
    assert "Rejected: not a problem" in html and "临时卸货" in html
    assert "/review/confirm" not in html  # no review forms for a supervisor


def test_the_open_queue_learns_of_findings_that_arrive(world, pending, client, auth, create_finding):
    # The page polls with the count it shows: nothing to do (204) while it is unchanged.
    auth.login("manager")
    html = client.get("/findings/review?site_id=" + world["visits"][0].site_id, headers=EN).get_data(as_text=True)
    assert 'id="rq-awaiting"' in html and "/findings/review/awaiting?last=2&amp;shown=2&amp;site_id=" in html
    poll = f"/findings/review/awaiting?last=2&shown=2&site_id={world['visits'][0].site_id}"
    r = client.get(poll, headers=EN)
    assert r.status_code == 204 and r.get_data() == b""
    # A phone's finding arrives: the count, how many are new, a link back to the same filtered view,
    # and a poller that now compares with the new count.
    create_finding(world["visits"][0], "灭火器过期", review_status="pending")
    db.session.commit()
    html = client.get(poll, headers=EN).get_data(as_text=True)
    assert "3 findings await review. <span" in html and "1 new finding arrived since this page was opened." in html
    assert f'href="/findings/review?site_id={world["visits"][0].site_id}">Refresh the list</a>' in html
    assert 'hx-swap-oob="innerHTML:#rq-awaiting"' in html and "last=3&amp;shown=2" in html
    assert client.get(poll.replace("last=2", "last=3")).status_code == 204
    zh = client.get(poll, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "3 个问题待审核。<span" in zh and "打开本页后新同步了 1 个问题。" in zh and "刷新列表" in zh  # no space after 。
    # Reviewed by someone else meanwhile: the count goes down, nothing is called new.
    ops.confirm_finding(pending[0], world["users"]["manager"])
    ops.confirm_finding(pending[1], world["users"]["manager"])
    db.session.commit()
    html = client.get(poll, headers=EN).get_data(as_text=True)
    assert "1 finding awaits review." in html and "arrived" not in html


def test_the_queue_poll_refuses_others_and_bad_input(world, pending, client, auth):
    for who in ("sup1", "head1", "staff1"):
        auth.login(who)
        assert client.get("/findings/review/awaiting?last=0").status_code == 404
        auth.logout()
    assert client.get("/findings/review/awaiting?last=0").status_code in (302, 401)
    auth.login("manager")
    hostile = "=HYPERLINK(\"x\")\x01<script>" + "长" * 10_000
    r = client.get("/findings/review/awaiting", query_string={"last": "x\x00", "shown": "-1e9", "site_id": hostile,
                                                             "other": "ignored"}, headers=EN)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "2 findings await review." in html and "arrived" not in html
    assert "<script>" not in html and "other=" not in html and len(html) < 2_000
    # The links carry only filters that hold: the hostile site is dropped, a bad date too, a good one kept;
    # a review status that does not exist is the default view's (pending).
    r = client.get("/findings/review/awaiting", query_string={"last": "0", "shown": "0", "site_id": hostile,
                                                             "date_from": "2026-13-45", "date_to": "2026-11-20",
                                                             "review": "bogus"}, headers=EN)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "date_to=2026-11-20" in html
    assert "site_id=" not in html and "date_from=" not in html and "bogus" not in html
    page = client.get("/findings/review", query_string={"site_id": hostile, "date_to": "2026-11-20"}, headers=EN)
    assert page.status_code == 200 and "site_id=" not in page.get_data(as_text=True).split('id="rq-awaiting"')[1][:600]


@pytest.mark.parametrize("who,status", [("sup1", 403), ("sup2", 404), ("head2", 404), ("staff1", 404),
                                        ("head1", 403)])
def test_review_by_url_guessing(world, pending, client, auth, who, status):
    auth.login(who)
    r = post(client, f"/findings/{pending[0].id}/review/confirm")
    assert r.status_code == status
    assert db.session.get(Finding, pending[0].id).review_status == "pending"


@pytest.mark.parametrize("who", ["sup1", "head1", "staff1"])
def test_queue_is_management_only(world, client, auth, who):
    auth.login(who)
    assert client.get("/findings/review").status_code == 404


def test_unknown_act_and_missing_finding_are_404(world, pending, client, auth):
    auth.login("manager")
    assert post(client, f"/findings/{pending[0].id}/review/delete").status_code == 404
    assert post(client, f"/findings/{new_id()}/review/confirm").status_code == 404
    assert post(client, f"/findings/{pending[0].id}/review/merge", {"into_id": new_id()}).status_code == 404


def test_csrf_is_required(world, pending, client, auth):
    auth.login("manager")
    client.get("/")
    r = client.post(f"/findings/{pending[0].id}/review/confirm", data={})
    assert r.status_code == 400
    assert db.session.get(Finding, pending[0].id).review_status == "pending"


def test_hostile_reason_control_characters_are_dropped_at_the_door(world, pending, client, auth):
    auth.login("manager")
    r = post(client, f"/findings/{pending[0].id}/review/reject", {"reason": "临时\x00卸\x07货"}, headers=EN)
    assert r.status_code == 303
    assert db.session.get(Finding, pending[0].id).review_reason == "临时卸货"


def test_hostile_reason_too_long_is_refused_in_the_users_language(world, pending, client, auth):
    auth.login("manager")
    r = post(client, f"/findings/{pending[0].id}/review/reject", {"reason": "长" * 10_000},
             headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 400 and "2000" in r.get_data(as_text=True)
    assert db.session.get(Finding, pending[0].id).review_status == "pending"


def test_hostile_reason_is_shown_as_text(world, pending, client, auth):
    auth.login("manager")
    reason = '=HYPERLINK("http://evil")<script>alert(1)</script>'
    assert post(client, f"/findings/{pending[0].id}/review/reject", {"reason": reason}).status_code == 303
    html = client.get(f"/findings/{pending[0].id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    html = client.get("/findings/review?review=rejected").get_data(as_text=True)
    assert "&lt;script&gt;" in html and csrf_from(html)


def _review_entry(html: str) -> str:
    """The sidebar's "To review" link."""
    start = html.index('<nav class="sidebar"')
    link = html.index('href="/findings/review"', start)
    return html[link:html.index("</a>", link)]


def test_the_navigation_counts_findings_awaiting_review(world, pending, client, auth, create_finding, monkeypatch):
    auth.login("manager")
    counted = []
    monkeypatch.setattr(ops, "awaiting_review_badge", lambda user, real=ops.awaiting_review_badge: counted.append(1) or real(user))
    html = client.get("/findings/", headers=EN).get_data(as_text=True)
    assert html.count('<span class="sr-only">2 findings await review.</span>') == 2  # the sidebar and the bottom bar
    assert len(counted) == 1  # counted once a page
    fragment = client.get("/findings/review/awaiting?last=0", headers=EN).get_data(as_text=True)
    assert "2 findings await review." in fragment and 'class="sidebar"' not in fragment
    assert len(counted) == 1  # a fragment shows no navigation: no count for it
    entry = _review_entry(html)
    assert '<span class="nav-count" aria-hidden="true">2</span>' in entry
    assert '<span class="sr-only">2 findings await review.</span>' in entry
    zh = _review_entry(client.get("/findings/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True))
    assert '<span class="sr-only">2 个问题待审核。</span>' in zh
    # Counted no further than the cap: a backlog shows "99+" (here the cap is 3: "2+").
    monkeypatch.setattr(ops, "BADGE_CAP", 3)
    create_finding(world["visits"][0], "灭火器过期", review_status="pending")
    create_finding(world["visits"][0], "应急灯不亮", review_status="pending")
    db.session.commit()
    assert ops.awaiting_review_count(world["users"]["manager"]) == 4 and ops.awaiting_review_badge(world["users"]["manager"]) == 3
    entry = _review_entry(client.get("/findings/", headers=EN).get_data(as_text=True))
    assert '<span class="nav-count" aria-hidden="true">2+</span>' in entry
    assert '<span class="sr-only">More than 2 findings await review.</span>' in entry
    # Nothing awaiting: no badge.
    for f in db.session.scalars(select(Finding).where(Finding.review_status == "pending")).all():
        ops.confirm_finding(f, world["users"]["manager"])
    db.session.commit()
    assert "nav-count" not in _review_entry(client.get("/findings/", headers=EN).get_data(as_text=True))


@pytest.mark.parametrize("who", ["sup1", "head1", "staff1"])
def test_no_review_count_for_others(world, pending, client, auth, who):
    auth.login(who)
    html = client.get("/findings/", headers=EN).get_data(as_text=True)
    assert "await review" not in html and 'href="/findings/review"' not in html


def test_each_queue_view_lists_its_findings_oldest_first(world, pending, create_finding):
    from datetime import UTC, datetime, timedelta

    manager, head2, v1, v2 = world["users"]["manager"], world["users"]["head2"], world["visits"][0], world["visits"][1]
    create_finding(v2, "早先的问题", review_status="pending", captured_at=datetime.now(UTC) - timedelta(days=3))
    gone = create_finding(v1, "已删除", review_status="pending")
    gone.deleted_at = datetime.now(UTC)
    ops.reject_finding(pending[0], manager, "不是问题")
    ops.merge_findings(pending[1], world["findings"][0], manager, "同一问题")
    db.session.commit()

    def titles(user, review=None):
        return [f.title for f in ops.review_queue(user, {"review": review} if review else {})[0]]

    assert titles(manager) == ["早先的问题"]
    assert ops.awaiting_review_count(manager) == ops.awaiting_review_badge(manager) == 1
    assert titles(manager, "rejected") == ["消防通道堵塞"] and titles(manager, "merged") == ["后仓通道堆放纸箱"]
    assert "早先的问题" not in titles(manager, "confirmed") and world["findings"][0].title in titles(manager, "confirmed")
    assert titles(head2) == ["早先的问题"] and titles(head2, "rejected") == []  # a department head: their own


def test_the_queue_and_its_count_read_the_review_index(world, pending):
    """The queue's statements, as the app runs them (bound parameters), can be planned with the index
    of the findings not confirmed: SQLite takes a partial index only for a query that says its
    condition in the same words (Finding.in_review), and a count of a backlog then reads no table rows."""
    from sqlalchemy import event

    manager, engine = world["users"]["manager"], db.engine
    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "FROM findings" in statement and "review_status" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        ops.awaiting_review_count(manager)
        first, cursor = ops.review_queue(manager, {}, limit=1)
        ops.review_queue(manager, {"cursor": cursor})  # "Load more"
        for review in ("rejected", "merged"):
            ops.review_queue(manager, {"review": review})
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert len(statements) == 5 and cursor
    conn = db.session.connection()
    for statement, parameters in statements:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a test table is small enough to read whole
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
        else:
            # Told to use the index, SQLite plans with it only if the query states its condition
            # ("no query solution" otherwise); which index it picks unasked is its estimate's business.
            told = statement.replace("FROM findings", "FROM findings INDEXED BY ix_findings_review_queue", 1)
            plan = "\n".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + told, parameters))
        assert "ix_findings_review_queue" in plan, (statement, plan)
    db.session.rollback()


def test_the_queue_shows_a_page_and_loads_more_oldest_first(world, pending, client, auth, create_finding, monkeypatch):
    import re
    from datetime import UTC, datetime, timedelta

    v1 = world["visits"][0]
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    early = [create_finding(v1, f"较早问题{n}", review_status="pending", captured_at=start + timedelta(seconds=min(n, 1)))
             for n in range(3)]  # the oldest; two at the same second: the cursor's tie is broken by the id
    expected = [f.title for f in sorted(early, key=lambda f: (f.captured_at, f.id))] + [f.title for f in pending]
    monkeypatch.setattr(ops, "QUEUE_PAGE", 2)
    auth.login("manager")

    def rows_and_more(html):
        more = re.search(r'id="rq-more".*?hx-get="([^"]+)"', html, re.S)
        return re.findall(r'class="review-link" href="[^"]+"[^>]*>([^<]+)</a>', html), more and more[1].replace("&amp;", "&")

    html = client.get(f"/findings/review?site_id={v1.site_id}", headers=EN).get_data(as_text=True)
    assert "5 findings await review." in html
    titles, more = rows_and_more(html)
    assert titles == expected[:2] and f"site_id={v1.site_id}" in more and "cursor=" in more  # same filters
    while more:
        part = client.get(more, headers={"HX-Request": "true", **EN}).get_data(as_text=True)
        assert "<html" not in part and "await review" not in part  # the next rows only
        page, more = rows_and_more(part)
        titles += page
    assert titles == expected
    # Without htmx the same address is the whole page from that row on; a bad cursor is the first page.
    html = client.get("/findings/review?cursor=x_y", headers=EN).get_data(as_text=True)
    assert "5 findings await review." in html and rows_and_more(html)[0] == expected[:2]
    assert client.get("/findings/review?cursor=" + "9" * 500, headers=EN).status_code == 200


def test_a_backlog_beyond_the_cap_reads_more_than(world, pending, client, auth, create_finding, monkeypatch):
    """The queue, its poll and the dashboard count no further than COUNT_CAP + 1 (here 2 + 1): above
    the cap they say "more than", and the poll has nothing new to tell however many more arrive."""
    manager, v1 = world["users"]["manager"], world["visits"][0]
    monkeypatch.setattr(ops, "COUNT_CAP", 2)
    auth.login("manager")
    html = client.get("/findings/review", headers=EN).get_data(as_text=True)
    assert "2 findings await review." in html and "More than" not in html  # at the cap: exact
    create_finding(v1, "灭火器过期", review_status="pending")
    assert ops.awaiting_review_count(manager) == 3
    changed = client.get("/findings/review/awaiting?last=2&shown=2", headers=EN).get_data(as_text=True)
    assert "More than 2 findings await review." in changed and "arrived" not in changed and "last=3" in changed
    create_finding(v1, "应急灯不亮", review_status="pending")
    assert ops.awaiting_review_count(manager) == 3  # counted no further
    assert client.get("/findings/review/awaiting?last=3&shown=2").status_code == 204
    page = client.get("/findings/review", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "超过 2 个问题待审核。" in page and "应急灯不亮" in page  # the list itself is not capped
    dash = client.get("/results/", headers=EN).get_data(as_text=True)
    assert "More than 2 findings await review and are not counted yet." in dash
    dash = client.get("/results/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "超过 2 个问题待审核，暂不计入统计。" in dash
