"""safe_cell: user text goes into a workbook as text, whatever it holds."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from webapp.core.exports import safe_cell, safe_row


def _roundtrip(values, write_only):
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("x") if write_only else wb.active
    ws.append(safe_row(ws, values))
    out = io.BytesIO()
    wb.save(out)
    ws = load_workbook(io.BytesIO(out.getvalue())).worksheets[0]
    return list(ws.iter_rows())[0]


@pytest.mark.parametrize("write_only", [True, False])
def test_formulas_are_text_and_illegal_characters_are_dropped(write_only):
    values = ["=1+1", "+1", "-1", "@A1", "\t=1", "\n=1", "普通", "a\x00b\x0bc\ud800\uffff", "行一\n行二", 42, None]
    row = _roundtrip(values, write_only)
    assert [c.value for c in row[:9]] == ["=1+1", "+1", "-1", "@A1", "\t=1", "\n=1", "普通", "abc", "行一\n行二"]
    assert all(c.data_type == "s" for c in row[:9])
    assert [c.quotePrefix for c in row[:9]] == [True] * 6 + [False] * 3
    assert (row[9].value, row[9].data_type) == (42, "n")


def test_other_values_pass_as_they_are():
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("x")
    assert safe_cell(ws, 3.5) == 3.5 and safe_cell(ws, None) is None
