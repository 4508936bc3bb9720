"""Excel export of the findings list with the same filters (openpyxl, write-only so 100k rows stream).

`findings_export` is the one builder: the export job (webapp/exports) and the direct download both
call it, so both make the same workbook. Photos are links to the photo's page (its access check
applies when the link is opened), the rectification's deadline and acceptance round have their own
columns, and the filter sheet names each filter and value in the reader's language.
"""

import io

from flask_babel import gettext as _
from flask_babel import to_user_timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp.auth.models import User
from webapp.checklists.models import TemplateItem
from webapp.core.exports import XLSX, ExportFile, no_progress, safe_cell, safe_row
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.findings.schemas import list_args
from webapp.findings.search import filtered
from webapp.i18n import current_locale_code, term
from webapp.org.models import Department, Site
from webapp.rectification.models import Rectification

MAX_ROWS = 100_000
MAX_PHOTO_LINKS = 10  # per finding; the count column says how many there are
FILTER_KEYS = ("q", "date_from", "date_to", "department_id", "site_id", "area", "item_id", "severity",
               "min_severity", "status", "supervisor_id", "overdue", "conflict", "repeat", "rectification")


def _filter_labels() -> dict:
    return {
        "q": _("Search"), "date_from": _("From"), "date_to": _("To"),
        "department_id": _("Responsible department"), "site_id": _("Site"), "area": _("Content area"),
        "item_id": _("Checklist item"), "severity": _("Severity"), "min_severity": _("Severity at least"),
        "status": _("Status"), "supervisor_id": _("Supervisor"), "overdue": _("Overdue"),
        "conflict": _("Has conflict"), "repeat": _("Repeat problem"),
        "rectification": _("Rectification outcome"),
    }


def _filter_value(key: str, value, loc: str) -> str:
    """A filter's value as a person reads it: the department's name, not its id."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if key == "department_id":
        obj = db.session.get(Department, value)
        return obj.label(loc) if obj else str(value)
    if key == "site_id":
        obj = db.session.get(Site, value)
        return obj.label(loc) if obj else str(value)
    if key == "supervisor_id":
        obj = db.session.get(User, value)
        return obj.display_name if obj else str(value)
    if key == "item_id":
        obj = db.session.get(TemplateItem, value)
        return (obj.title_en if loc == "en" and obj.title_en else obj.title) if obj else str(value)
    if key == "area":
        return str(term("area", value))
    if key in ("severity", "min_severity"):
        return str(term("severity", value))
    if key == "status":
        return str(term("finding_status", value))
    if key == "rectification":
        return {"due": _("Due or accepted"), "on_time": _("Accepted on time"), "decided": _("Acceptance decided"),
                "first_round": _("Accepted on the first round")}.get(value, str(value))
    return str(value)


def photo_link(base_url: str, sha: str) -> str:
    return f"{base_url.rstrip('/')}/api/v1/photos/{sha}?variant=display"


def findings_workbook(query, args: dict, base_url: str = "", total: int | None = None, progress=no_progress) -> bytes:
    loc = current_locale_code()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Findings"))
    headers = [_("Problem"), _("Manifestation"), _("Impact scope"), _("Content area"), _("Severity"), _("Status"),
               _("Responsible department"), _("Responsible person"), _("Site"), _("Supervisor"), _("Recorded at"),
               _("Photos"), _("Deadline"), _("Round"), _("Photo links")]
    bold = Font(bold=True)
    row = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        row.append(cell)
    ws.append(row)
    step = max(1, (total or 0) // 20)
    done = 0
    ids = query.order_by(None).with_only_columns(Finding.id).limit(MAX_ROWS).subquery()
    rectifications = {fid: (deadline, rnd) for fid, deadline, rnd in db.session.execute(
        select(Rectification.finding_id, Rectification.deadline, Rectification.round)
        .where(Rectification.finding_id.in_(select(ids.c.id))))}
    for f in db.session.scalars(query.limit(MAX_ROWS).execution_options(yield_per=1000)):
        rect = rectifications.get(f.id)
        photos = list(f.photos or [])
        links = "\n".join(photo_link(base_url, sha) for sha in photos[:MAX_PHOTO_LINKS]) if base_url else ""
        ws.append(safe_row(ws, [
            f.title, f.description or "", f.impact or "", str(term("area", f.area)), str(term("severity", f.severity)),
            str(term("finding_status", f.status)), f.department.label(loc) if f.department else "",
            f.responsible_person or "", f.site.label(loc) if f.site else "",
            f.supervisor.display_name if f.supervisor else "",
            to_user_timezone(f.captured_at).replace(tzinfo=None) if f.captured_at else None, len(photos),
            rect[0] if rect else None, rect[1] if rect else None, links,
        ]))
        done += 1
        if total and done % step == 0:
            progress(min(95, 5 + 90 * done // total))
    meta = wb.create_sheet(_("Filters"))
    meta.append(safe_row(meta, [_("Filter"), _("Value")]))
    labels = _filter_labels()
    for key in FILTER_KEYS:
        value = args.get(key)
        if value not in (None, "", False):
            meta.append([safe_cell(meta, str(labels[key])), safe_cell(meta, _filter_value(key, value, loc))])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def findings_query(user, args: dict):
    return (filtered(user, args, db.engine.dialect.name)
            .options(selectinload(Finding.site), selectinload(Finding.department), selectinload(Finding.supervisor))
            .order_by(Finding.captured_at.desc(), Finding.id.desc()))


def export_params(multidict) -> dict:
    """What a findings export job keeps: the list's filters as the person set them."""
    args = list_args(multidict)
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in args.items()
            if k in FILTER_KEYS and v not in (None, "", False)}


def findings_export(user, params: dict, progress=no_progress) -> ExportFile:
    """The findings workbook for `user` (their scope, at the time it runs) and the saved filters."""
    args = list_args({k: ("1" if v is True else str(v)) for k, v in (params or {}).items() if k in FILTER_KEYS})
    query = findings_query(user, args)
    total = min(MAX_ROWS, db.session.scalar(select(func.count()).select_from(
        query.order_by(None).options().subquery())) or 0)
    progress(5)
    data = findings_workbook(query, args, (params or {}).get("base_url", ""), total, progress)
    return ExportFile(data, "findings.xlsx", XLSX)
