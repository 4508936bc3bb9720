"""Totals and ranking, the ledger page (full and htmx), filters, bad input, the Recalculate button
and the Excel export (opened with openpyxl)."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.results.points.conftest import Q4, TODAY, local
from tests.review_helpers import post
from webapp.extensions import db
from webapp.results.models import PointEntry, PointRule
from webapp.results.points.labels import signed
from webapp.results.points.operations import department_totals, person_totals, post_points, rank


def test_rank_ties_share_a_rank():
    rows = rank([{"k": "a", "total": -3}, {"k": "b", "total": 5}, {"k": "c", "total": -3}, {"k": "d", "total": -7},
                 {"k": "e", "total": 5}])
    assert [(r["k"], r["rank"]) for r in rows] == [("b", 1), ("e", 1), ("a", 3), ("c", 3), ("d", 5)]
    assert rank([]) == []


def test_signed_points():
    assert (signed(3), signed(-2), signed(1.5), signed(0)) == ("+3", "−2", "+1.5", "0")


@pytest.fixture
def posted(ledger, finding_at, rectify, create_department):
    """Q4: D1 −1 −5 +3 = −3 (bonus 3, deduction −6); D2 −2 −1 = −3 (a tie); D3 nothing = 0 (first);
    one D2 entry voided (does not count), one D1 entry appealed (counts)."""
    d3 = create_department("D3", "三部")
    db.session.add(PointRule(code="PER-LOW", name="责任人", trigger="finding_severity", severity="low",
                             points=-1, applies_to="person"))
    db.session.commit()
    finding_at(local(2026, 10, 5), "low", responsible_person="员工甲")
    high = finding_at(local(2026, 10, 6), "high")
    rectify(finding_at(local(2026, 9, 1)), "accepted", deadline=date(2026, 10, 10), accepted_at=local(2026, 10, 9))
    finding_at(local(2026, 10, 7), "medium", dept=2)
    finding_at(local(2026, 10, 8), "low", dept=2)
    voided = finding_at(local(2026, 10, 9), "high", dept=2)
    post_points(Q4, today=TODAY)
    db.session.commit()
    by_finding = {e.finding_id: e for e in db.session.scalars(select(PointEntry).where(PointEntry.person_id.is_(None)))}
    by_finding[voided.id].status = "voided"
    by_finding[high.id].status = "appealed"
    db.session.commit()
    return {**ledger, "d3": d3, "high": high}


def test_department_totals_and_ranking(posted):
    d1, d2 = posted["depts"]
    rows = department_totals(posted["users"]["manager"], "2026-Q4")
    got = [(r["department"].code, r["rank"], r["bonus"], r["deduction"], r["total"], r["entries"]) for r in rows]
    assert got == [("D3", 1, 0, 0, 0, 0), ("D1", 2, 3, -6, -3, 3), ("D2", 2, 0, -3, -3, 2)]


def test_person_totals_are_separate(posted):
    rows = person_totals(posted["users"]["manager"], "2026-Q4")
    assert [(r["person"].name, r["rank"], r["total"]) for r in rows] == [("员工甲", 1, -1)]


def test_dept_head_totals_are_their_department_only(posted):
    rows = department_totals(posted["users"]["head2"], "2026-Q4")
    assert [(r["department"].code, r["total"]) for r in rows] == [("D2", -3)]
    assert person_totals(posted["users"]["head2"], "2026-Q4") == []


def test_ledger_page_full_and_htmx(client, auth, posted):
    auth.login("manager")
    full = client.get("/results/points/?period=2026-Q4")
    html = full.get_data(as_text=True)
    assert full.status_code == 200 and "<html" in html and 'id="ledger"' in html
    assert posted["high"].title in html and f'/findings/{posted["high"].id}' in html  # cause link
    assert "员工甲" in html and ("Recalculate" in html or "重新计算" in html)
    part = client.get("/results/points/?period=2026-Q4", headers={"HX-Request": "true"})
    frag = part.get_data(as_text=True)
    assert part.status_code == 200 and "<html" not in frag and posted["high"].title in frag
    assert "HX-Request" in part.headers.get("Vary", "")


def test_department_filter(client, auth, posted):
    d2 = posted["depts"][1]
    auth.login("manager")
    html = client.get(f"/results/points/?period=2026-Q4&department_id={d2.id}").get_data(as_text=True)
    assert posted["high"].title not in html and "问题 10-07 10:00 medium" in html


def test_dept_head_sees_only_own_department_even_with_a_filter(client, auth, posted):
    d1 = posted["depts"][0]
    auth.login("head2")
    html = client.get(f"/results/points/?period=2026-Q4&department_id={d1.id}").get_data(as_text=True)
    assert posted["high"].title not in html
    assert "Recalculate" not in html and "重新计算" not in html


@pytest.mark.parametrize("query", ["period=2026-13", "period=2026-11", "period=%3Cscript%3E", "department_id=nope",
                                   "status=bogus"])
def test_bad_filters_say_so(client, auth, posted, query):
    auth.login("manager")
    resp = client.get(f"/results/points/?{query}", headers={"Accept-Language": "en"})
    assert resp.status_code == 400
    assert 'class="flash flash-error"' in resp.get_data(as_text=True)


def test_bad_period_message_in_chinese(client, auth, posted):
    auth.login("manager")
    resp = client.get("/results/points/?period=2026-13", headers={"Accept-Language": "zh-CN"})
    assert resp.status_code == 400 and "请输入季度考核周期，例如 2026-Q4。" in resp.get_data(as_text=True)


@pytest.mark.parametrize("who, status", [("supervisor", 403), ("staff", 403)])
def test_ledger_is_not_for_everyone(client, auth, world, who, status):
    user = {"supervisor": "sup1", "staff": "staff1"}[who]
    auth.login(user)
    assert client.get("/results/points/").status_code == status
    assert client.get("/results/points/export.xlsx").status_code == status


def test_recalculate_button(client, auth, ledger, finding_at):
    finding_at(local(2026, 10, 5), "low")
    db.session.commit()
    auth.login("manager")
    resp = post(client, "/results/points/post", {"period": "2026-Q4"})
    assert resp.status_code == 303 and "period=2026-Q4" in resp.headers["Location"]
    db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(PointEntry)) == 1
    assert post(client, "/results/points/post", {"period": "2026-Q4"}).status_code == 303
    assert db.session.scalar(select(db.func.count()).select_from(PointEntry)) == 1
    bad = post(client, "/results/points/post", {"period": "2026-99"}, follow_redirects=True)
    assert bad.status_code == 200 and "2026-Q4" in bad.get_data(as_text=True)


@pytest.mark.parametrize("who", ["head1", "sup1", "staff1"])
def test_recalculate_is_for_management(client, auth, ledger, who):
    auth.login(who)
    assert post(client, "/results/points/post", {"period": "2026-Q4"}).status_code == 403


def test_excel_export_for_hr(client, auth, posted):
    auth.login("manager")
    resp = client.get("/results/points/export.xlsx?period=2026-Q4", headers={"Accept-Language": "zh-CN"})
    assert resp.status_code == 200
    assert "points-2026-Q4.xlsx" in resp.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(resp.data))
    assert wb.sheetnames == ["合计", "积分明细"]
    totals = list(wb["合计"].iter_rows(values_only=True))
    assert totals[0][:2] == ("绩效积分", "2026年第4季度")
    assert totals[1] == ("考核周期", "2026-Q4") + (None,) * (len(totals[1]) - 2)
    assert totals[2][0] == "生成时间" and totals[2][1] is not None
    header = totals.index(next(r for r in totals if r[0] == "排名"))
    assert totals[header][:6] == ("排名", "部门", "加分", "扣分", "合计", "条目数")
    assert [r[:6] for r in totals[header + 1:header + 4]] == [
        (1, "三部", 0, 0, 0, 0), (2, "一部", 3, -6, -3, 3), (2, "二部", 0, -3, -3, 2)]
    person_header = [i for i, r in enumerate(totals) if r[0] == "排名"][1]
    assert totals[person_header + 1][:6] == (1, "员工甲", "一部", 0, -1, -1)
    rows = list(wb["积分明细"].iter_rows(values_only=True))
    assert rows[0][:4] == ("序号", "发生时间", "部门", "责任人")
    assert len(rows) == 1 + 7  # every entry of the period, voided included (marked)
    statuses = {r[9] for r in rows[1:]}
    assert statuses == {"计分", "申诉中", "已作废"}
    high = next(r for r in rows[1:] if r[6] == posted["high"].title)
    assert high[8] == -5 and high[7] == "严重"


def test_excel_headers_in_english(client, auth, posted):
    auth.login("manager")
    wb = load_workbook(io.BytesIO(client.get("/results/points/export.xlsx?period=2026-Q4",
                                             headers={"Accept-Language": "en"}).data))
    assert wb.sheetnames == ["Totals", "Ledger entries"]
    assert wb["Ledger entries"]["B1"].value == "Occurred at"


def test_excel_of_a_dept_head_has_no_other_department(client, auth, posted):
    auth.login("head2")
    wb = load_workbook(io.BytesIO(client.get("/results/points/export.xlsx?period=2026-Q4").data))
    depts = {r[2] for r in list(wb.worksheets[1].iter_rows(values_only=True))[1:]}
    assert depts == {"二部"}
