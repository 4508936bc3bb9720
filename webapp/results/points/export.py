"""Excel export of a period's ledger for HR: a totals sheet (departments and people, ranked) and an
entries sheet, headers in the user's language, with the period and the generation time."""

import io
from datetime import datetime

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from webapp.core.exports import safe_row
from webapp.i18n import term
from webapp.results.points.labels import ENTRY_STATUSES, TRIGGERS, VOID_NOTES, label

BOLD = Font(bold=True)


def _header(ws, values):
    ws.append(safe_row(ws, values))
    for cell in ws[ws.max_row]:
        cell.font = BOLD


def points_workbook(period, loc: str, generated_at: datetime, dept_rows, person_rows, entries, tz,
                    ranked: bool = True) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("Totals")
    ws.append(safe_row(ws, [_("Performance points"), period.label(loc)]))
    ws["A1"].font = BOLD
    ws.append([_("Assessment period"), period.code])
    ws.append([_("Generated at"), generated_at.astimezone(tz).replace(tzinfo=None)])
    ws["B3"].number_format = "yyyy-mm-dd hh:mm"
    ws.append([])
    ws.append([_("Departments")])
    ws[f"A{ws.max_row}"].font = BOLD
    _header(ws, [_("Rank"), _("Department"), _("Bonus points"), _("Deduction points"), _("Total"), _("Entries")])
    for r in dept_rows:
        ws.append(safe_row(ws, [r["rank"] if ranked else None, r["department"].label(loc), r["bonus"],
                                r["deduction"], r["total"], r["entries"]]))
    ws.append([])
    ws.append([_("People")])
    ws[f"A{ws.max_row}"].font = BOLD
    _header(ws, [_("Rank"), _("Person"), _("Department"), _("Bonus points"), _("Deduction points"), _("Total"),
                 _("Entries")])
    for r in person_rows:
        p = r["person"]
        ws.append(safe_row(ws, [r["rank"] if ranked else None, p.name,
                                p.department.label(loc) if p.department else "", r["bonus"], r["deduction"],
                                r["total"], r["entries"]]))
    ws.column_dimensions["B"].width = 24

    es = wb.create_sheet(_("Ledger entries"))
    _header(es, [_("No."), _("Occurred at"), _("Department"), _("Responsible person"), _("Rule"), _("Trigger"), _("Cause"),
                 _("Severity"), _("Points awarded"), _("Status"), _("Note")])
    # XXX: never ws.max_row inside the loop: it scans every cell (quadratic at 10,000+ rows).
    for row_no, e in enumerate(entries, start=2):
        f = e.finding
        es.append(safe_row(es, [
            e.id, e.occurred_at.astimezone(tz).replace(tzinfo=None) if e.occurred_at else None,
            e.department.label(loc) if e.department else "", e.person.name if e.person else "",
            f"{e.rule.code} {e.rule.name}" if e.rule else "", label(TRIGGERS, e.rule.trigger if e.rule else None),
            f.title if f else e.cause_id, term("severity", f.severity) if f else "", e.points,
            label(ENTRY_STATUSES, e.status), label(VOID_NOTES, e.note) if e.note else "",
        ]))
        es.cell(row_no, 2).number_format = "yyyy-mm-dd hh:mm"
    for col, width in (("B", 17), ("C", 16), ("E", 24), ("G", 36)):
        es.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
