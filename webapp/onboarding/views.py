"""Import from Excel (/admin/import): template, upload → preview → confirm, export. Thin views: the
workbook is read by workbook.py, checked and applied by operations.py, kept by store.py."""

import hashlib
import io

from flask import Blueprint, abort, make_response, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.authz import require
from webapp.extensions import db
from webapp.i18n import current_locale_code
from webapp.onboarding import store
from webapp.onboarding.operations import comparable, export_rows, run_import
from webapp.onboarding.workbook import (
    MAX_BYTES,
    MAX_ROWS,
    SHEETS,
    FileRefused,
    build_workbook,
    choice_label,
    read_workbook,
)

bp = Blueprint("onboarding", __name__, url_prefix="/admin/import")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@login_required
def _administrators_only():
    require(current_user, "admin.import")


def _lang() -> str:
    return "en" if current_locale_code() == "en" else "zh"


def _xlsx(data: bytes, name: str):
    resp = send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _index(error: str | None = None, status: int = 200):
    return render_template("onboarding/index.html", error=error, max_mb=MAX_BYTES // (1024 * 1024),
                           max_rows=MAX_ROWS, sheets=SHEETS, lang=_lang()), status


@bp.get("/")
def index():
    return _index()


@bp.get("/template.xlsx")
def template():
    name = "onboarding-template.xlsx" if _lang() == "en" else "批量导入模板.xlsx"
    return _xlsx(build_workbook(_lang()), name)


@bp.get("/export.xlsx")
def export():
    return _xlsx(build_workbook(_lang(), export_rows()), "onboarding-export.xlsx")


@bp.post("/")
def upload():
    if (request.content_length or 0) > MAX_BYTES + 64 * 1024:
        return _index(_("The file is larger than %(n)s MB.", n=MAX_BYTES // (1024 * 1024)), 413)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _index(_("Choose an Excel file (.xlsx) to upload."), 400)
    data = upload.stream.read(MAX_BYTES + 1)
    try:
        parsed = read_workbook(data)
    except FileRefused as e:
        return _index(e.message, e.status)
    parsed["sha256"] = hashlib.sha256(data).hexdigest()
    parsed["filename"] = (upload.filename or "")[-120:]
    result = run_import(parsed, current_user, apply=False)
    preview_id = store.save_preview(current_user.id, {"parsed": parsed, "result": result})
    resp = make_response("", 303)
    resp.headers["Location"] = url_for("onboarding.preview", preview_id=preview_id)
    return resp


def _preview_or_404(preview_id) -> dict:
    doc = store.load_preview(preview_id, current_user.id)
    if doc is None:
        abort(404)
    return doc


def _display(value, column, lang):
    if value is None or value == "":
        return "—"
    if column.choices:
        try:
            return choice_label(column.choices, value, lang)
        except KeyError:
            return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _render_preview(doc: dict, message: str | None = None, status: int = 200):
    lang = _lang()
    sheets = []
    for spec in SHEETS:  # in the workbook's order
        sheet = doc["result"]["sheets"].get(spec.kind)
        if sheet is None:
            continue
        kind = spec.kind
        rows = []
        for r in sheet["rows"]:
            rows.append({**r,
                         "changes": [{"column": spec.column(k).header(lang), "old": _display(o, spec.column(k), lang),
                                      "new": _display(n, spec.column(k), lang)} for k, o, n in r["changes"]],
                         "errors": [{"column": spec.column(k).header(lang) if k else "", "message": m}
                                    for k, m in r["errors"]]})
        sheets.append({"kind": kind, "title": spec.title(lang), "file_title": sheet["title"], "rows": rows,
                       "missing": [spec.column(k).header(lang) for k in sheet["missing"]]})
    return render_template("onboarding/preview.html", doc=doc, sheets=sheets, result=doc["result"],
                           message=message), status


@bp.get("/<preview_id>")
def preview(preview_id):
    return _render_preview(_preview_or_404(preview_id))


@bp.post("/<preview_id>/confirm")
def confirm(preview_id):
    doc = _preview_or_404(preview_id)
    if doc["result"].get("blocked"):
        return _render_preview(doc, _("Fix the errors in the file and upload it again: nothing is saved while "
                                      "any row has an error."), 409)
    result = run_import(doc["parsed"], current_user, apply=True)
    if result["blocked"] or comparable(result) != comparable(doc["result"]):
        db.session.rollback()  # the temporary passwords of this attempt go with it: never shown, never saved
        doc["result"] = run_import(doc["parsed"], current_user, apply=False)
        store.save_preview(current_user.id, doc, preview_id)
        return _render_preview(doc, _("The data changed since this preview was made: check the new preview "
                                      "and confirm again."), 409)
    passwords = result.pop("passwords")
    db.session.commit()
    store.drop_preview(preview_id)
    if passwords:
        store.keep_passwords(preview_id, current_user.id, _passwords_workbook(passwords))
    resp = make_response(render_template("onboarding/done.html", result=result, passwords=passwords,
                                         preview_id=preview_id, doc=doc))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/<preview_id>/passwords.xlsx")
def passwords(preview_id):
    data = store.take_passwords(preview_id, current_user.id)
    if data is None:
        abort(404)
    return _xlsx(data, "temporary-passwords.xlsx")


def _passwords_workbook(passwords: list[dict]) -> bytes:
    from openpyxl import Workbook

    from webapp.core.exports import safe_row

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Temporary passwords"))
    ws.append([_("Username"), _("Display name"), _("Temporary password")])
    for p in passwords:
        ws.append(safe_row(ws, [p["username"], p["display_name"], p["password"]]))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
