"""Excel export of the findings list with the same filters (openpyxl, write-only so 100k rows stream)."""

import io

from flask_babel import gettext as _
from flask_babel import to_user_timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from webapp.core.exports import safe_row
from webapp.extensions import db
from webapp.i18n import current_locale_code, term

MAX_ROWS = 100_000


def findings_workbook(query, args: dict) -> bytes:
    loc = current_locale_code()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Findings"))
    headers = [_("Problem"), _("Manifestation"), _("Impact scope"), _("Content area"), _("Severity"), _("Status"),
               _("Responsible department"), _("Responsible person"), _("Site"), _("Supervisor"), _("Recorded at"),
               _("Photos")]
    bold = Font(bold=True)
    row = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        row.append(cell)
    ws.append(row)
    for f in db.session.scalars(query.limit(MAX_ROWS).execution_options(yield_per=1000)):
        ws.append(safe_row(ws, [
            f.title, f.description or "", f.impact or "", str(term("area", f.area)), str(term("severity", f.severity)),
            str(term("finding_status", f.status)), f.department.label(loc) if f.department else "",
            f.responsible_person or "", f.site.label(loc) if f.site else "",
            f.supervisor.display_name if f.supervisor else "",
            to_user_timezone(f.captured_at).replace(tzinfo=None) if f.captured_at else None, len(f.photos or []),
        ]))
    meta = wb.create_sheet(_("Filters"))
    meta.append(safe_row(meta, [_("Filter"), _("Value")]))
    for key, value in sorted(args.items()):
        if value not in (None, "", False) and key != "cursor":
            meta.append(safe_row(meta, [key, str(value)]))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
