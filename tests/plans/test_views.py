"""Planning pages: full page and htmx fragment, permissions, clear errors, the cycle through HTTP."""

from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from
from webapp.extensions import db
from webapp.models import Change, Visit
from webapp.plans.models import Plan

HX = {"HX-Request": "true"}
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture(autouse=True)
def _reads_do_not_lock(app):
    """The test's own session only reads between requests: on SQLite it must not take the write lock
    (BEGIN IMMEDIATE), or the request it is waiting for could not write."""
    from webapp.core.database import sqlite_reading

    with sqlite_reading():
        yield


def _token(client, url="/plans/"):
    return csrf_from(client.get(url).get_data(as_text=True))


def _new_plan(client, **over):
    year = date.today().year
    data = {"title": "二季度督导计划", "period_type": "quarterly", "year": str(year), "quarter": "2",
            "goals": "覆盖全部门店", "focus_areas": ["service", "risk"], "methods": "现场检查",
            "csrf_token": _token(client)}
    data.update(over)
    return client.post("/plans/new", data=data)


def _plan(title="二季度督导计划"):
    db.session.rollback()  # a fresh snapshot: the requests wrote meanwhile
    return db.session.scalar(select(Plan).where(Plan.title == title))


def test_supervisor_drafts_a_plan(client, auth, world):
    auth.login("sup1")
    resp = _new_plan(client)
    assert resp.status_code == 302
    plan = _plan()
    assert (plan.status, plan.period_type, plan.focus_areas) == ("draft", "quarterly", ["service", "risk"])
    assert (plan.period_start.month, plan.period_end.month, plan.period_end.day) == (4, 6, 30)
    page = client.get(resp.location).get_data(as_text=True)
    assert "二季度督导计划" in page and "Submit for approval" in client.get(resp.location, headers=EN).get_data(as_text=True)


@pytest.mark.parametrize(("headers", "message"), [(EN, "This field is required."), (ZH, "此项为必填项。")])
def test_bad_plan_input_gets_field_errors_in_the_users_language(client, auth, world, headers, message):
    auth.login("sup1")
    token = _token(client)
    resp = client.post("/plans/new", headers=headers, data={"title": "", "period_type": "monthly", "year": "20x",
                                                             "goals": "保留我", "csrf_token": token})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert message in page
    assert 'id="title-error"' in page and 'id="year-error"' in page
    assert "保留我" in page  # nothing entered is lost
    assert db.session.scalar(select(Plan)) is None


def test_dept_head_cannot_draft_or_see_drafts(client, auth, world):
    auth.login("sup1")
    _new_plan(client)
    plan = _plan()
    auth.logout()
    auth.login("head1")
    assert client.get("/plans/new").status_code == 403
    assert client.get(f"/plans/{plan.id}").status_code == 404
    auth.logout()
    auth.login("sup2")
    assert client.get(f"/plans/{plan.id}").status_code == 404  # another supervisor's draft


def test_index_full_and_htmx(client, auth, world):
    auth.login("sup1")
    _new_plan(client)
    full = client.get("/plans/", headers=EN)
    assert full.status_code == 200 and "<html" in full.get_data(as_text=True)
    part = client.get("/plans/?status=draft", headers={**HX, **EN})
    body = part.get_data(as_text=True)
    assert "<html" not in body and "二季度督导计划" in body and "HX-Request" in part.headers.get("Vary", "")
    assert "二季度督导计划" not in client.get("/plans/?status=published", headers=HX).get_data(as_text=True)


def _add_row(client, plan, sup, site, tpl, headers=None, **over):
    year = plan.period_start.year
    data = {"site_id": site.id, "window_start": f"{year}-05-06", "window_end": f"{year}-05-08",
            "supervisor_ids": [sup.id], "template_id": tpl.id, "csrf_token": _token(client)}
    data.update(over)
    return client.post(f"/plans/{plan.id}/schedule", data=data, headers=headers or {})


def test_schedule_rows_inline(client, auth, world, create_template):
    tpl = create_template("SCHED")
    sup1 = world["users"]["sup1"]
    auth.login("sup1")
    _new_plan(client)
    plan = _plan()
    resp = _add_row(client, plan, sup1, world["sites"][0], tpl, headers={**HX, **EN})
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert 'id="schedule"' in body and "<html" not in body
    plan = _plan()
    row = plan.schedule[0]
    assert row.supervisor_ids == [sup1.id] and row.window_start.month == 5
    # a window outside the quarter: a clear error on the field, as a fragment
    bad = _add_row(client, plan, sup1, world["sites"][0], tpl, headers={**HX, **EN},
                   window_start=f"{plan.period_start.year}-09-01", window_end=f"{plan.period_start.year}-08-01")
    assert bad.status_code == 400
    assert "The window must end on or after its first day." in bad.get_data(as_text=True)
    # inline edit
    form = client.get(f"/plans/{plan.id}/schedule/{row.id}/edit", headers=HX).get_data(as_text=True)
    assert f'action="/plans/{plan.id}/schedule/{row.id}"' in form
    client.post(f"/plans/{plan.id}/schedule/{row.id}", headers=HX, data={
        "site_id": world["sites"][1].id, "window_start": f"{plan.period_start.year}-06-01",
        "window_end": f"{plan.period_start.year}-06-02", "supervisor_ids": [sup1.id, world["users"]["sup2"].id],
        "template_id": tpl.id, "csrf_token": _token(client)})
    row = _plan().schedule[0]
    assert row.site_id == world["sites"][1].id and len(row.supervisor_ids) == 2
    # no Visit rows exist for a draft: nothing can reach a phone
    assert db.session.scalars(select(Visit).where(Visit.plan_id == plan.id)).all() == []
    client.post(f"/plans/{plan.id}/schedule/{row.id}/delete", headers=HX, data={"csrf_token": _token(client)})
    assert _plan().schedule == []


def _transition(client, plan, to, comment=None, headers=None):
    data = {"to": to, "csrf_token": _token(client)}
    if comment is not None:
        data["comment"] = comment
    return client.post(f"/plans/{plan.id}/transition", data=data, headers=headers or {})


def test_the_whole_cycle_through_http(client, auth, world, create_template):
    tpl = create_template("CYCLE")
    sup1 = world["users"]["sup1"]
    auth.login("sup1")
    _new_plan(client)
    plan = _plan()
    _add_row(client, plan, sup1, world["sites"][0], tpl)
    assert _transition(client, plan, "submitted").status_code == 302
    assert _transition(client, plan, "approved").status_code == 403  # a supervisor cannot approve
    assert _plan().status == "submitted"
    auth.logout()

    auth.login("manager")
    resp = _transition(client, plan, "returned", "", headers=EN)
    assert resp.status_code == 400 and "This field is required." in resp.get_data(as_text=True)
    _transition(client, plan, "returned", "请把五角场门店加入范围")
    assert _plan().status == "returned"
    assert _transition(client, plan, "published").status_code == 400  # a returned plan cannot be published
    assert _plan().status == "returned"
    auth.logout()

    auth.login("sup1")
    page = client.get(f"/plans/{plan.id}", headers=EN).get_data(as_text=True)
    assert "what to change" in page and "请把五角场门店加入范围" in page
    edit = client.get(f"/plans/{plan.id}/edit").get_data(as_text=True)
    assert "请把五角场门店加入范围" in edit
    _transition(client, plan, "submitted")
    auth.logout()

    auth.login("manager")
    _transition(client, plan, "approved")
    before = db.session.scalar(select(Change.seq).order_by(Change.seq.desc()).limit(1))
    assert _transition(client, plan, "published").status_code == 302
    plan = _plan()
    assert plan.status == "published"
    visit = db.session.scalars(select(Visit).where(Visit.plan_id == plan.id)).one()
    change = db.session.scalar(select(Change).where(Change.entity == "visit", Change.record_id == visit.id))
    assert change.seq > before and change.supervisor_id == sup1.id
    auth.logout()

    auth.login("sup1")  # the visit is in the supervisor's list
    assert f"/visits/{visit.id}" in client.get("/visits/").get_data(as_text=True)
    page = client.get(f"/plans/{plan.id}", headers=EN).get_data(as_text=True)
    assert "0/1" in page  # progress: none of one done


def test_notes_with_attachments(client, auth, world, tmp_path):
    import io

    auth.login("sup1")
    _new_plan(client)
    plan = _plan()
    resp = client.post(f"/plans/{plan.id}/notes", content_type="multipart/form-data", data={
        "kind": "gather", "body": "上季度投诉上升 18%", "csrf_token": _token(client),
        "files": [(io.BytesIO(b"a,b\n1,2\n"), "complaints.csv")]})
    assert resp.status_code == 302
    plan = _plan()
    att = plan.notes[0].attachments[0]
    assert (att.filename, att.content_type, att.size) == ("complaints.csv", "text/csv", 8)
    got = client.get(f"/plans/attachments/{att.id}")
    assert got.status_code == 200 and got.data == b"a,b\n1,2\n"
    assert "attachment" in got.headers["Content-Disposition"]
    bad = client.post(f"/plans/{plan.id}/notes", content_type="multipart/form-data", headers=EN, data={
        "kind": "analyse", "body": "x", "csrf_token": _token(client),
        "files": [(io.BytesIO(b"MZ"), "tool.exe")]})
    assert bad.status_code == 400 and "This type of file is not accepted." in bad.get_data(as_text=True)
    auth.logout()
    auth.login("head1")  # a draft's attachments are out of scope
    assert client.get(f"/plans/attachments/{att.id}").status_code == 404


def test_calendar_month_week_and_filters(client, auth, world):
    auth.login("manager")
    v1, v2 = world["visits"]
    today = date.today().isoformat()
    page = client.get(f"/plans/calendar?date={today}", headers=EN).get_data(as_text=True)
    assert f"/visits/{v1.id}" in page and f"/visits/{v2.id}" in page and "<html" in page
    week = client.get(f"/plans/calendar?view=week&date={today}", headers=HX).get_data(as_text=True)
    assert "<html" not in week and 'class="cal-week"' in week and f"/visits/{v1.id}" in week
    only = client.get(f"/plans/calendar?date={today}&supervisor={world['users']['sup2'].id}").get_data(as_text=True)
    assert f"/visits/{v1.id}" not in only and f"/visits/{v2.id}" in only
    dept = client.get(f"/plans/calendar?date={today}&department={world['depts'][0].id}").get_data(as_text=True)
    assert f"/visits/{v1.id}" in dept and f"/visits/{v2.id}" not in dept
    auth.logout()
    auth.login("sup1")  # a supervisor sees only their own visits
    mine = client.get(f"/plans/calendar?date={today}").get_data(as_text=True)
    assert f"/visits/{v1.id}" in mine and f"/visits/{v2.id}" not in mine


@pytest.mark.parametrize(("role", "draft", "published"), [
    ("sup1", 200, 200), ("sup2", 404, 200), ("manager", 200, 200), ("admin", 200, 200),
    ("head1", 404, 200), ("staff1", 404, 200)])
def test_who_sees_a_plan(client, auth, world, create_template, role, draft, published):
    auth.login("sup1")
    _new_plan(client)
    _add_row(client, _plan(), world["users"]["sup1"], world["sites"][0], create_template("SEE"))
    auth.logout()
    plan = _plan()
    auth.login(role)
    assert client.get(f"/plans/{plan.id}").status_code == draft
    auth.logout()
    for step in ("submitted", "approved", "published"):
        auth.login("sup1" if step == "submitted" else "manager")
        assert _transition(client, plan, step).status_code == 302
        auth.logout()
    auth.login(role)
    assert client.get(f"/plans/{plan.id}").status_code == published


def test_the_list_counts_each_plans_progress_as_its_page_does(client, auth, world, draft_plan):
    """The list reads the plans' visits as plain rows (a chain's plan has tens of thousands); each
    plan's progress and each supervisor's are those its own page counts from the records."""
    import re
    from datetime import UTC, datetime

    v = world["visits"][0]
    for status, deleted in (("scheduled", None), ("completed", None), ("scheduled", datetime(2026, 11, 1, tzinfo=UTC))):
        db.session.add(Visit(site_id=v.site_id, department_id=v.department_id, template_id=v.template_id,
                             plan_id=draft_plan.id, supervisor_id=v.supervisor_id, status=status,
                             scheduled_for=date(2026, 11, 2), deleted_at=deleted))  # before today (20 Nov)
    draft_plan.status = "published"  # its page shows the progress from then on
    db.session.commit()
    auth.login("manager")
    figures = re.compile(r'<span class="progress-figures">([^<]*(?:<span class="overdue">[^<]*</span>)?)</span>')
    rows = re.compile(r'<td data-label="(?:Planned|Done|Overdue|Plan completion rate)" class="num">(.*?)</td>')
    listed, own = (client.get(url, headers=EN).get_data(as_text=True) for url in ("/plans/", f"/plans/{draft_plan.id}"))
    assert figures.findall(listed) == figures.findall(own) == ['1/2 · <span class="overdue">1 overdue</span>']
    assert rows.findall(listed) == rows.findall(own) == ["2", "1", '<span class="overdue">1</span>', "50%"]


@pytest.fixture
def many_visits(world, draft_plan):
    """The published plan's visits: five on one day at each of the two supervisors' sites, two on
    another, one without a day, one deleted — ids in an order of their own."""
    from datetime import UTC, datetime

    made = {}
    for n, (vis, day, deleted) in enumerate([(0, date(2026, 11, 2), None)] * 5 + [(1, date(2026, 11, 2), None)] * 5
                                            + [(0, date(2026, 10, 30), None), (1, date(2026, 10, 30), None),
                                               (0, None, None), (0, date(2026, 10, 1), datetime(2026, 11, 1, tzinfo=UTC))]):
        v = world["visits"][vis]
        visit = Visit(id=f"{(n * 7) % 17:02d}000000-0000-4000-8000-000000000000", site_id=v.site_id,
                      department_id=v.department_id, template_id=v.template_id, plan_id=draft_plan.id,
                      supervisor_id=v.supervisor_id, status="scheduled", scheduled_for=day, deleted_at=deleted)
        db.session.add(visit)
        made[visit.id] = visit
    draft_plan.status = "published"
    db.session.commit()
    return {k: (v.scheduled_for, v.supervisor_id, v.deleted_at) for k, v in made.items()}


def _visit_ids(html):
    import re

    return re.findall(r'href="/visits/([0-9a-f-]+)"', html)


@pytest.mark.parametrize("who", ["manager", "sup1"])
def test_a_plans_page_lists_its_visits_a_page_at_a_time(client, auth, world, draft_plan, many_visits, monkeypatch, who):
    """A chain plan has tens of thousands of visits: its page lists them 50 at a time (here 3), by day
    then id, any without a day last, deleted ones not at all, only those the user may see; "Load more"
    brings each of the rest once (htmx: only the rows, the first taking the keyboard focus), and the
    progress above counts them all."""
    import re

    from webapp.plans import views

    monkeypatch.setattr(views, "VISITS_PAGE", 3)
    auth.login(who)
    user = world["users"][who]
    page = client.get(f"/plans/{draft_plan.id}", headers=EN).get_data(as_text=True)
    seen, pages = _visit_ids(page), 1
    nxt = re.search(r'hx-get="([^"]+cursor=[^"]+)"', page)
    while nxt:
        part = client.get(nxt.group(1).replace("&amp;", "&"), headers={**EN, **HX}).get_data(as_text=True)
        assert "<html" not in part and part.count(" autofocus") == 1
        seen += _visit_ids(part)
        pages += 1
        nxt = re.search(r'hx-get="([^"]+cursor=[^"]+)"', part)
        assert pages < 20
    live = [(day, vid) for vid, (day, sup, deleted) in many_visits.items()
            if deleted is None and (who == "manager" or sup == user.id)]
    own = {v.id for v in world["visits"]}
    assert [v for v in seen if v not in own] == [vid for _day, vid in sorted(live, key=lambda r: (r[0] or date.max, r[1]))]
    assert pages == -(-len(seen) // 3)
    total = len(live) + 0  # the world's own visits have no plan
    assert re.search(rf'<span class="progress-figures">0/{total}\b', page), page[page.find("progress-figures") - 50:][:200]
    # Without JavaScript the link is a page of the next visits.
    link = re.search(r'<a class="btn btn-block" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    whole = client.get(link, headers=EN).get_data(as_text=True)
    assert "<html" in whole and _visit_ids(whole)[:3] == seen[3:6]


@pytest.mark.parametrize("cursor", ["", "x", "_", "s", "n", "2026_1", "s20261102_" + "f" * 300, "s20261399_0", "20261399_a", "=HYPERLINK(\"x\")_1", "\x00_\x00", "计划" * 60])
def test_a_cursor_that_does_not_read_is_the_first_page_of_visits(client, auth, draft_plan, many_visits, cursor, monkeypatch):
    from webapp.plans import views

    monkeypatch.setattr(views, "VISITS_PAGE", 3)
    auth.login("manager")
    first = _visit_ids(client.get(f"/plans/{draft_plan.id}", headers=EN).get_data(as_text=True))
    for headers in (EN, {**EN, **HX}):
        r = client.get(f"/plans/{draft_plan.id}", query_string={"cursor": cursor}, headers=headers)
        assert r.status_code == 200
        assert _visit_ids(r.get_data(as_text=True)) == first


def test_a_cursor_past_the_last_day_lists_the_visits_without_one(client, auth, draft_plan, many_visits):
    """The dated visits first: a cursor past the last one's day goes on with those without a day."""
    auth.login("manager")
    undated = [vid for vid, (day, _sup, deleted) in many_visits.items() if day is None and deleted is None]
    for cursor in ("n0", "s20261102_" + "f" * 36):
        r = client.get(f"/plans/{draft_plan.id}", query_string={"cursor": cursor}, headers={**EN, **HX})
        assert r.status_code == 200 and _visit_ids(r.get_data(as_text=True)) == undated


def test_the_progress_count_and_the_page_of_visits_are_read_from_their_indexes(client, auth, draft_plan, many_visits):
    """The statement that counts a plan's progress can be answered from ix_visits_plan_progress alone,
    and its page of visits walks ix_visits_plan_day in order (migration 0129; partial: SQLite takes
    them only for a query that states `deleted_at IS NULL`)."""
    from sqlalchemy import event

    engine, statements = db.engine, {}

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "GROUP BY visits.plan_id, visits.supervisor_id" in statement:
            statements["ix_visits_plan_progress"] = (statement, parameters)
        elif "ORDER BY visits.scheduled_for, visits.id" in statement:
            statements["ix_visits_plan_day"] = (statement, parameters)

    auth.login("manager")
    event.listen(engine, "before_cursor_execute", keep)
    try:
        assert client.get(f"/plans/{draft_plan.id}").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    conn = db.session.connection()
    assert set(statements) == {"ix_visits_plan_progress", "ix_visits_plan_day"}
    for index, (statement, parameters) in statements.items():
        assert "visits.deleted_at IS NULL" in statement
        if engine.dialect.name == "postgresql":
            definition = conn.exec_driver_sql(f"SELECT indexdef FROM pg_indexes WHERE indexname = '{index}'").scalar_one()
            assert "WHERE (deleted_at IS NULL)" in definition, definition
        else:
            told = statement.replace("FROM visits", f"FROM visits INDEXED BY {index}", 1)
            assert told != statement
            plan = "\n".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + told, parameters))
            assert index in plan and "TEMP B-TREE" not in plan, plan  # in the index's order, no sort
    db.session.rollback()
