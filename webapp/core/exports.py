"""Cells of the Excel exports: user text goes in as text, whatever it holds.

A string starting with = is a formula to openpyxl (and + - @ to Excel once the cell is edited), so
a finding titled =HYPERLINK(...) would be a live link in every manager's export; a stored control
character is illegal in the file's XML and would fail the whole export.
"""

from openpyxl.cell import WriteOnlyCell

from webapp.core.text import FORBIDDEN

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(ws, value):
    """`value` ready for `ws.append`: strings become text cells (quote-prefixed when Excel would read
    them as a formula) without the characters XML cannot hold; other values are returned as they are."""
    if not isinstance(value, str):
        return value
    text = FORBIDDEN.sub("", value)
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"  # openpyxl made a leading = a formula
    if text.startswith(FORMULA_START):
        cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
    return cell


def safe_row(ws, values) -> list:
    return [safe_cell(ws, v) for v in values]


# ---- what an export builder hands back (the direct download and the export job share it) -------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportError(Exception):
    """An export that cannot be made; `code` names the reason (webapp/exports/labels.py words it)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class ExportDenied(ExportError):
    """The person may not (or no longer) export this: the job fails, the direct download is a 404."""

    def __init__(self):
        super().__init__("denied")


class ExportFile:
    __slots__ = ("data", "filename", "mimetype")

    def __init__(self, data: bytes, filename: str, mimetype: str):
        self.data, self.filename, self.mimetype = data, filename, mimetype


def no_progress(_percent: int) -> None:
    """The progress callback of a direct download: nobody is watching."""
