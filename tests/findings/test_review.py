"""The findings review list: filters, Chinese full-text search, keyset pages, detail pane, comments,
bulk assignment and the Excel export."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.review_helpers import post
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.findings.search import filtered, page, sorts_whole_scope
from webapp.org.models import Person


def _titles(html):
    import re

    return re.findall(r'class="finding-link" href="[^"]+"[^>]*>([^<]+)</a>', html)


@pytest.fixture
def many(world, create_finding):
    v1 = world["visits"][0]
    base = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    made = [create_finding(v1, f"检查{i:03d}", captured_at=base + timedelta(minutes=i),
                           severity=("low", "high")[i % 2]) for i in range(120)]
    return made


def test_keyset_pages_cover_everything_once(client, auth, many):
    auth.login("manager")
    seen, url = [], "/findings/?severity=low"
    page = client.get(url).get_data(as_text=True)
    seen += _titles(page)
    while 'id="load-more-row"' in page:
        nxt = page.split('id="load-more-row"', 1)[1].split('hx-get="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        r = client.get(nxt, headers={"HX-Request": "true"})
        page = r.get_data(as_text=True)
        assert "<html" not in page  # the rows fragment only
        seen += _titles(page)
    assert len(seen) == len(set(seen)) == 60
    assert seen[0] == "检查118" and seen[-1] == "检查000"  # newest first


@pytest.mark.parametrize("args, expected", [({}, 121), ({"severity": "low"}, 60), ({"q": "检查"}, 120),
                                            ({"q": "检查", "severity": "high"}, 60)])
def test_a_supervisors_pages_are_the_same_either_plan(app, world, many, args, expected):
    """Sorting the whole narrow scope (PostgreSQL, a supervisor's filtered list) or walking the table
    newest first: the same rows in the same pages."""
    sup = world["users"]["sup1"]
    dialect = db.engine.dialect.name
    pages = {}
    for whole in (False, True):
        seen, cursor = [], None
        while True:
            rows, cursor = page(filtered(sup, args, dialect).execution_options(whole_scope=whole), cursor, limit=7)
            seen.append([f.id for f in rows])
            if cursor is None:
                break
        pages[whole] = seen
    assert pages[True] == pages[False] and sum(map(len, pages[True])) == expected


@pytest.mark.parametrize("who", ["manager", "sup1"])
def test_full_text_pages_are_the_same_from_few_or_many_matches(app, world, many, monkeypatch, who):
    """SQLite: a search with few matches starts from them; one with many walks the list newest first
    (search.FEW_MATCHES), or, in a supervisor's narrow scope, checks each of their findings' text
    (LIKE); the pages are the same every way."""
    from webapp.findings import search

    user = world["users"][who]
    dialect = db.engine.dialect.name
    pages = {}
    for few in (5_000, 1):
        monkeypatch.setattr(search, "FEW_MATCHES", few)
        seen, cursor = [], None
        while True:
            rows, cursor = page(filtered(user, {"q": "检查0", "severity": "high"}, dialect), cursor, limit=9)
            seen.append([f.title for f in rows])
            if cursor is None:
                break
        pages[few] = seen
    assert pages[5_000] == pages[1] and sum(map(len, pages[1])) == 50  # 检查001 … 检查099, every other one
    assert pages[1][0][0] == "检查099"


@pytest.mark.parametrize("windows", [(5, 30), (1, 1), (3, 1000), (8, 8)])
def test_a_search_looks_among_the_newest_rows_first_and_finds_the_same_pages(app, world, create_finding,
                                                                          monkeypatch, windows):
    """SQLite, many matches: a page is first looked for among the newest rows, with the set of matches
    built from their lowest rowid (search._recent_first). Rows are inserted in an order unlike their
    capture times (a phone that synced late), so rowid order is not list order: the pages must still be
    exactly the list's, whatever the window sizes."""
    import random

    from webapp.findings import search

    v1, v2 = world["visits"]
    rnd = random.Random(5)
    base = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    minutes = list(range(90))
    rnd.shuffle(minutes)
    made = [create_finding((v1, v2)[m % 2], f"巡检记录{m:03d}" if m % 3 else f"其他{m:03d}",
                           captured_at=base + timedelta(minutes=m // 2), severity=("low", "high")[m % 2])
            for m in minutes]
    monkeypatch.setattr(search, "FEW_MATCHES", 1)
    monkeypatch.setattr(search, "RECENT_WINDOW", windows[0])
    monkeypatch.setattr(search, "RECENT_WINDOW_MAX", windows[1])
    manager = world["users"]["manager"]
    dialect = db.engine.dialect.name
    for args in ({"q": "巡检记"}, {"q": "巡检记", "severity": "high"}):
        expected = sorted((f for f in made if "巡检记" in f.title and f.severity == args.get("severity", f.severity)),
                          key=lambda f: (f.captured_at, f.id), reverse=True)
        seen, cursor = [], None
        while True:
            rows, cursor = page(filtered(manager, args, dialect), cursor, limit=7)
            seen += [f.id for f in rows]
            if cursor is None:
                break
        assert seen == [f.id for f in expected], args


def test_which_lists_sort_the_whole_scope(world):
    sup, manager, head = world["users"]["sup1"], world["users"]["manager"], world["users"]["head1"]
    assert sorts_whole_scope(sup, {"q": "消防"}, "postgresql") and sorts_whole_scope(sup, {"overdue": True}, "postgresql")
    assert not sorts_whole_scope(sup, {}, "postgresql")  # the walk stops after a page
    assert not sorts_whole_scope(sup, {"q": "消防"}, "sqlite")
    assert not any(sorts_whole_scope(u, {"q": "消防"}, "postgresql") for u in (manager, head))


@pytest.mark.parametrize("query,expected", [
    ("一部", {"一部的问题"}),         # 2 characters: LIKE fallback
    ("一部的", {"一部的问题"}),       # trigram full-text search
    ("二部的问题", {"二部的问题"}),
    ("问题", {"一部的问题", "二部的问题"}),
    ("不存在的词", set()),
    ("%", set()),
])
def test_chinese_search(client, auth, world, query, expected):
    auth.login("manager")
    html = client.get("/findings/", query_string={"q": query}).get_data(as_text=True)
    assert set(_titles(html)) == expected


def test_search_follows_edits(client, auth, world):
    f = world["findings"][0]
    f.description = "消防通道堆放纸箱"
    db.session.commit()
    auth.login("manager")
    assert _titles(client.get("/findings/?q=堆放纸箱").get_data(as_text=True)) == ["一部的问题"]


def test_search_is_scoped(client, auth, world):
    auth.login("head2")
    assert _titles(client.get("/findings/?q=问题").get_data(as_text=True)) == ["二部的问题"]


@pytest.mark.parametrize("key", ["department_id", "site_id", "severity", "status", "supervisor_id", "area"])
def test_filters(client, auth, world, key):
    f2 = world["findings"][1]
    f2.severity, f2.status, f2.area = "critical", "rectifying", "risk"
    db.session.commit()
    value = {"department_id": f2.department_id, "site_id": f2.site_id, "severity": "critical",
             "status": "rectifying", "supervisor_id": f2.supervisor_id, "area": "risk"}[key]
    auth.login("manager")
    assert _titles(client.get("/findings/", query_string={key: value}).get_data(as_text=True)) == ["二部的问题"]


def test_flag_filters_and_period(client, auth, world):
    f1, f2 = world["findings"]
    f1.has_conflict = True
    f2.repeat_of_id = f1.id
    f2.captured_at = datetime(2025, 1, 10, 4, 0, tzinfo=UTC)
    db.session.commit()
    auth.login("manager")
    assert _titles(client.get("/findings/?conflict=1").get_data(as_text=True)) == ["一部的问题"]
    assert _titles(client.get("/findings/?repeat=1").get_data(as_text=True)) == ["二部的问题"]
    html = client.get("/findings/?date_from=2025-01-10&date_to=2025-01-10").get_data(as_text=True)
    assert _titles(html) == ["二部的问题"]


def test_overdue_filter(client, auth, world):
    from datetime import date

    from webapp.rectification import operations as rops

    f1 = world["findings"][0]
    rops.submit_plan(f1, world["users"]["head1"], "m", "o", date.today())
    rops.rectification_for(f1).deadline = date.today() - timedelta(days=1)
    db.session.commit()
    auth.login("manager")
    assert _titles(client.get("/findings/?overdue=1").get_data(as_text=True)) == ["一部的问题"]
    # and the row itself says so, in the unfiltered list too: only the overdue finding carries the badge
    html = client.get("/findings/").get_data(as_text=True)
    rows = html.split('<tbody id="finding-rows">')[1].split("</tbody>")[0].split("<tr>")[1:]
    assert sorted(("badge overdue" in row, "一部的问题" in row) for row in rows) == [(False, False), (True, True)]


def test_overdue_filter_leaves_out_a_rectification_awaiting_acceptance(client, auth, world):
    """Past its deadline but submitted for acceptance is not overdue: the head has done their part
    (the filter walks findings being rectified only, webapp/findings/search.py)."""
    from datetime import date

    from webapp.rectification import operations as rops

    f1, f2 = world["findings"]
    for f in (f1, f2):
        rops.submit_plan(f, world["users"]["head1" if f is f1 else "head2"], "m", "o", date.today())
        rops.rectification_for(f).deadline = date.today() - timedelta(days=1)
    rops.submit_for_acceptance(f2, world["users"]["head2"])
    db.session.commit()
    assert (f1.status, f2.status) == ("rectifying", "pending_acceptance")
    auth.login("manager")
    assert _titles(client.get("/findings/?overdue=1").get_data(as_text=True)) == ["一部的问题"]


def test_min_severity_filter(client, auth, world):
    f1, f2 = world["findings"]
    f1.severity, f2.severity = "medium", "critical"
    db.session.commit()
    auth.login("manager")
    assert _titles(client.get("/findings/?min_severity=high").get_data(as_text=True)) == ["二部的问题"]
    assert set(_titles(client.get("/findings/?min_severity=medium").get_data(as_text=True))) == {"一部的问题", "二部的问题"}


@pytest.mark.parametrize("outcome, expected", [
    ("due", {"一部的问题", "二部的问题"}),  # accepted / past its deadline
    ("on_time", {"一部的问题"}),
    ("decided", {"一部的问题", "二部的问题"}),  # accepted / failed a round
    ("first_round", {"一部的问题"}),
])
def test_rectification_outcome_filter(client, auth, world, outcome, expected):
    from datetime import date

    from webapp.rectification.models import Rectification

    f1, f2 = world["findings"]
    sup = world["users"]["sup1"].id
    db.session.add_all([
        Rectification(finding_id=f1.id, measures="m", owner="o", deadline=date(2026, 3, 10), status="accepted",
                      round=1, submitted_by=sup, accepted_at=datetime(2026, 3, 10, 15, 0, tzinfo=UTC)),
        Rectification(finding_id=f2.id, measures="m", owner="o", deadline=date(2026, 3, 10), status="rectifying",
                      round=2, submitted_by=sup)])
    db.session.commit()
    auth.login("manager")
    html = client.get("/findings/", query_string={"rectification": outcome}).get_data(as_text=True)
    assert set(_titles(html)) == expected
    assert f'value="{outcome}" selected' in html


def test_bad_filter_values_are_ignored(client, auth, world):
    auth.login("manager")
    r = client.get("/findings/?severity=nonsense&date_from=yesterday&cursor=garbage&min_severity=x&rectification=y")
    assert r.status_code == 200 and len(_titles(r.get_data(as_text=True))) == 2


def test_detail_pane_fragment_and_page(client, auth, world):
    fid = world["findings"][0].id
    auth.login("sup1")
    pane = client.get(f"/findings/{fid}", headers={"HX-Request": "true"})
    assert pane.status_code == 200 and "<html" not in pane.get_data(as_text=True)
    assert "Vary" in pane.headers and "HX-Request" in pane.headers["Vary"]
    full = client.get(f"/findings/{fid}").get_data(as_text=True)
    assert "<html" in full and "v1" in full  # revision history shows the first version


@pytest.mark.parametrize("who,status", [("sup2", 404), ("head2", 404), ("staff1", 200), ("head1", 200)])
def test_detail_scoped(client, auth, world, who, status):
    fid = world["findings"][0].id
    auth.login(who)
    assert client.get(f"/findings/{fid}").status_code == status


def test_comments_htmx_and_plain(client, auth, world):
    fid = world["findings"][0].id
    auth.login("head1")
    r = post(client, f"/findings/{fid}/comments", {"body": "已安排整改"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "已安排整改" in r.get_data(as_text=True) and "<html" not in r.get_data(as_text=True)
    assert post(client, f"/findings/{fid}/comments", {"body": ""}).status_code == 400
    assert post(client, f"/findings/{fid}/comments", {"body": "第二条"}).status_code == 303


@pytest.mark.parametrize("who,allowed", [("manager", True), ("sup1", True), ("head1", False), ("staff1", False)])
def test_bulk_assign(client, auth, world, who, allowed):
    d2 = world["depts"][1].id
    f1 = world["findings"][0].id
    db.session.add(Person(name="王五", department_id=d2))  # one of the people of the responsible department
    db.session.commit()
    auth.login(who)
    r = post(client, "/findings/assign", {"ids": [f1], "department_id": d2, "responsible_person": "王五"})
    assert r.status_code == (303 if allowed else 403)
    f = db.session.get(Finding, f1)
    assert (f.department_id == d2) is allowed
    if allowed:
        assert f.responsible_person == "王五"
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.entity_id == f1)) == "finding.assign"


def test_bulk_assign_takes_only_the_sites_people(client, auth, world):
    f1 = world["findings"][0].id
    auth.login("sup1")
    r = post(client, "/findings/assign", {"ids": [f1], "responsible_person": "路人甲"}, follow_redirects=True)
    assert "请从该场所的人员中选择责任人" in r.get_data(as_text=True)
    assert db.session.get(Finding, f1).responsible_person == "员工甲"


def test_bulk_assign_ignores_findings_out_of_scope(client, auth, world):
    f2 = world["findings"][1].id
    auth.login("sup1")
    post(client, "/findings/assign", {"ids": [f2], "responsible_person": "王五"})
    assert db.session.get(Finding, f2).responsible_person is None


def test_excel_export_applies_filters(client, auth, world):
    world["findings"][1].severity = "critical"
    db.session.commit()
    auth.login("manager")
    r = client.get("/findings/export.xlsx?severity=critical", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "问题" and [row[0] for row in rows[1:]] == ["二部的问题"]
    assert rows[1][4] == "重大"


@pytest.mark.parametrize("lang,expected", [("zh-CN", "从“已关闭”变为“待验收”"), ("en", "“Closed” to “Awaiting acceptance”")])
def test_illegal_transition_names_statuses_in_the_users_language(app, world, lang, expected):
    """The refusal names both statuses as the user reads them, never as codes."""
    from webapp.findings.operations import WorkflowError, transition_finding

    finding = world["findings"][0]
    finding.status = "closed"
    with app.test_request_context(headers={"Accept-Language": lang}):
        with pytest.raises(WorkflowError) as err:
            transition_finding(finding, "pending_acceptance", world["users"]["manager"])
    assert expected in str(err.value)
