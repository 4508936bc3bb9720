"""The onboarding workbook: one sheet per kind, headers in Chinese or English (both accepted on
import), and the safe reading of an uploaded file.

The format is a contract with the people who fill it in, so its sheet names, headers and the labels of
its choices are written here in both languages and do not follow edits of the translation catalogs.
"""

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

from flask_babel import gettext as _

from webapp.core.exports import safe_cell

MAX_BYTES = 5 * 1024 * 1024
MAX_UNCOMPRESSED = 60 * 1024 * 1024  # all parts of the .xlsx together, once unzipped
MAX_PARTS = 500
MAX_ROWS = 5000  # data rows per sheet
MAX_COLUMNS = 40


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    required: bool = False
    choices: str | None = None  # a key of CHOICES: a dropdown in the template
    width: int = 16

    def header(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Sheet:
    kind: str
    zh: str
    en: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    def title(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


SHEETS = (
    Sheet("departments", "部门", "Departments", (
        Column("code", "部门编码", "Code", True),
        Column("name", "名称", "Name", True, width=24),
        Column("name_en", "英文名称", "English name", width=24),
        Column("kind", "类型", "Kind", choices="kind"),
        Column("parent_code", "上级部门编码", "Parent code"),
    )),
    Sheet("sites", "运营场所", "Sites", (
        Column("code", "场所编码", "Code", True),
        Column("name", "名称", "Name", True, width=24),
        Column("name_en", "英文名称", "English name", width=24),
        Column("department_code", "部门编码", "Department code", True),
        Column("address", "地址", "Address", width=30),
        Column("lat", "纬度", "Latitude"),
        Column("lng", "经度", "Longitude"),
        Column("geofence_radius_m", "地理围栏半径(米)", "Geofence radius (m)"),
        Column("site_class", "场所等级", "Site class"),
        Column("manager", "场所负责人", "Site manager", width=20),
    )),
    Sheet("users", "用户", "Users", (
        Column("username", "用户名", "Username", True),
        Column("display_name", "姓名", "Display name", True, width=20),
        Column("role", "角色", "Role", True, choices="role"),
        Column("department_code", "部门编码", "Department code"),
        Column("email", "邮箱", "Email", width=26),
        Column("mobile", "手机号", "Mobile"),
        Column("locale", "语言", "Language", choices="locale"),
    )),
    Sheet("templates", "检查表模板", "Checklist templates", (
        Column("template_code", "模板编码", "Template code", True),
        Column("template_name", "模板名称", "Template name", True, width=24),
        Column("template_name_en", "模板英文名称", "Template English name", width=24),
        Column("item_code", "检查项编码", "Item code", True),
        Column("area", "内容领域", "Area", True, choices="area", width=22),
        Column("title", "检查项", "Item title", True, width=30),
        Column("title_en", "检查项英文", "English title", width=30),
        Column("guidance", "检查要点", "Guidance", width=30),
        Column("weight", "权重", "Weight"),
        Column("scoring", "评分方式", "Scoring", choices="scoring"),
        Column("max_points", "满分", "Max points"),
        Column("photo_required_on_fail", "不合格须拍照", "Photo required on fail", choices="yesno"),
        # Rich checklists (docs/checklists.md); a file without these columns keeps the items' values.
        Column("answer_type", "答题方式", "Answer type", choices="answer_type", width=20),
        Column("criteria", "合格标准", "Criteria", width=30),
        Column("scale_min", "最低分", "Lowest score"),
        Column("scale_max", "最高分", "Highest score"),
        Column("options", "选项", "Options", width=36),
        Column("range_min", "合格最低值", "Lowest passing value"),
        Column("range_max", "合格最高值", "Highest passing value"),
        Column("unit", "单位", "Unit"),
    )),
)
SHEET_BY_KIND = {s.kind: s for s in SHEETS}
INSTRUCTIONS = {"zh": "说明", "en": "Instructions"}

# code: (Chinese label, English label, other accepted spellings)
CHOICES = {
    "kind": {
        "department": ("部门", "department", ()),
        "branch": ("分支机构", "branch", ()),
        "region": ("区域", "region", ()),
    },
    "role": {
        "admin": ("系统管理员", "Administrator", ("管理员", "admin")),
        "manager": ("管理层", "Management", ("manager", "经理")),
        "supervisor": ("督导员", "Supervisor", ("督导人员", "督导")),
        "dept_head": ("部门负责人", "Department head", ("dept_head",)),
        "staff": ("员工", "Staff", ()),
    },
    "area": {
        "process": ("业务流程规范", "Business process compliance", ("业务流程合规",)),
        "service": ("服务质量", "Service quality", ()),
        "efficiency": ("工作效率", "Work efficiency", ()),
        "risk": ("风险管理", "Risk management", ()),
        "teamwork": ("团队协作", "Teamwork", ()),
    },
    "scoring": {
        "pass_fail": ("合格/不合格", "Pass/fail", ("合格不合格", "pass_fail")),
        "points": ("计分", "Points", ("分值",)),
    },
    "answer_type": {
        "pass_fail": ("合格/不合格/不适用", "Pass/fail/n.a.", ("合格/不合格", "pass/fail", "pass_fail")),
        "scale": ("按分值评分", "Score on a scale", ("评分", "scale")),
        "choice": ("单项选择", "Multiple choice", ("选择", "choice")),
        "number": ("实测数值", "Measured number", ("数值", "number")),
    },
    "yesno": {
        True: ("是", "yes", ("y", "true", "1", "需要")),
        False: ("否", "no", ("n", "false", "0", "不需要")),
    },
    "locale": {
        "zh_CN": ("zh-CN", "zh-CN", ("zh_cn", "zh", "中文", "简体中文", "chinese")),
        "en": ("en", "en", ("english", "英文", "英语")),
    },
}


def choice_label(group: str, code, lang: str) -> str:
    zh, en, _aliases = CHOICES[group][code]
    return en if lang == "en" else zh


def choice_code(group: str, value: str):
    """The code for a label in either language (or the code itself); raises KeyError."""
    wanted = value.strip().lower()
    for code, (zh, en, aliases) in CHOICES[group].items():
        if wanted in {zh.lower(), en.lower(), *(a.lower() for a in aliases)} or (
                isinstance(code, str) and wanted == code.lower()):
            return code
    raise KeyError(value)


def _norm(text) -> str:
    return " ".join(str(text or "").split()).lower()


def sheet_for_title(title: str) -> Sheet | None:
    """Sheet names in Chinese, English, or both ("部门 Departments")."""
    wanted = _norm(title)
    for sheet in SHEETS:
        if wanted in {_norm(sheet.zh), _norm(sheet.en), _norm(f"{sheet.zh} {sheet.en}")}:
            return sheet
    return None


def column_for_header(sheet: Sheet, header) -> Column | None:
    wanted = _norm(header).rstrip("*").strip()
    for col in sheet.columns:
        if wanted in {_norm(col.zh), _norm(col.en)}:
            return col
    return None


# ---- reading an upload -----------------------------------------------------------------------------

class FileRefused(Exception):
    """The whole file is refused (HTTP 400/413), with a message in the user's language."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


FORMULA = {"formula": True}  # a cell that held a formula: refused by the row checks


def _check_zip(data: bytes) -> None:
    if len(data) > MAX_BYTES:
        raise FileRefused(_("The file is larger than %(n)s MB.", n=MAX_BYTES // (1024 * 1024)), 413)
    if not data.startswith(b"PK\x03\x04"):
        raise FileRefused(_("This is not an Excel workbook (.xlsx). Save the file as .xlsx and upload it again."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            total = sum(i.file_size for i in infos)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused(_("This is not an Excel workbook (.xlsx). Save the file as .xlsx and upload it again.")) from None
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise FileRefused(_("This is not an Excel workbook (.xlsx). Save the file as .xlsx and upload it again."))
    if len(infos) > MAX_PARTS or total > MAX_UNCOMPRESSED:
        raise FileRefused(_("This workbook is too large once unpacked. Keep only the import sheets and try again."), 413)


EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")  # how Excel writes a control character into the XML


def _cell_value(cell):
    if cell.data_type == "f":
        return FORMULA
    value = cell.value
    if isinstance(value, str) and "_x" in value:
        value = EXCEL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def read_workbook(data: bytes) -> dict:
    """{"sheets": {kind: {"title", "columns": [keys], "missing": [keys], "rows": [{"n", "cells"}]}},
    "ignored": [sheet titles]}. Raises FileRefused for a file that is not a sane .xlsx."""
    _check_zip(data)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged file; none of them is a 500
        raise FileRefused(_("This workbook cannot be opened. Save it again with Excel or WPS as .xlsx and retry.")) from None
    out = {"sheets": {}, "ignored": []}
    try:
        for ws in wb.worksheets:
            sheet = sheet_for_title(ws.title)
            if sheet is None:
                if _norm(ws.title) not in {_norm(INSTRUCTIONS["zh"]), _norm(INSTRUCTIONS["en"])}:
                    out["ignored"].append(ws.title)
                continue
            if sheet.kind in out["sheets"]:
                raise FileRefused(_("The workbook has two sheets for %(sheet)s.", sheet=ws.title))
            out["sheets"][sheet.kind] = _read_sheet(ws, sheet)
    except FileRefused:
        raise
    except Exception:
        raise FileRefused(_("This workbook cannot be opened. Save it again with Excel or WPS as .xlsx and retry.")) from None
    finally:
        wb.close()
    if not out["sheets"]:
        raise FileRefused(_("No sheet of this workbook is one the import knows. Start from the downloaded template."))
    return out


def _read_sheet(ws, sheet: Sheet) -> dict:
    rows = ws.iter_rows(max_col=MAX_COLUMNS)
    try:
        return _read_rows(rows, ws.title, sheet)
    finally:
        rows.close()  # the sheet's XML stream, also when the sheet is refused half-way


def _read_rows(rows, title: str, sheet: Sheet) -> dict:
    header = next(rows, None) or ()
    keys = []
    for cell in header:
        col = column_for_header(sheet, cell.value) if isinstance(cell.value, str) else None
        keys.append(col.key if col else None)
    missing = [c.key for c in sheet.columns if c.required and c.key not in keys]
    data_rows = []
    n = 1
    for cells in rows:
        n += 1
        values = {}
        for key, cell in zip(keys, cells, strict=False):
            if key is None or not hasattr(cell, "data_type"):
                continue
            value = _cell_value(cell)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            values[key] = value
        if not values:
            continue
        if len(data_rows) >= MAX_ROWS:
            raise FileRefused(_("The sheet %(sheet)s has more than %(n)s rows. Split it into several files.",
                                sheet=title, n=MAX_ROWS), 413)
        data_rows.append({"n": n, "cells": values})
    return {"title": title, "columns": [k for k in keys if k], "missing": missing, "rows": data_rows}


# ---- writing: the template and the export ---------------------------------------------------------

def _instructions(lang: str) -> list[str]:
    if lang == "en":
        return [
            "How to fill in this workbook",
            "One sheet per kind: Departments, Sites, Users, Checklist templates. Keep the header row; "
            "headers may be in Chinese or English. Columns marked * are required.",
            "Rows are matched by code (username for users): a new code is created, an existing one is "
            "changed where it differs, and the same values change nothing. Nothing is deleted.",
            "Departments: kind is department, branch or region; parent code may name a department "
            "defined further down the same sheet.",
            "Sites: department code must exist; latitude -90..90, longitude -180..180 (both or neither); "
            "site manager is a person's code or name in that department.",
            "Users: role is Administrator, Management, Supervisor, Department head or Staff; department "
            "heads and staff need a department code. New users get a temporary password shown once "
            "after the import; they must change it at their first sign-in.",
            "Checklist templates: one row per item; the template's rows together are the whole template "
            "(items left out are removed from it). Photo required on fail: yes or no.",
            "Type values, not formulas. At most 5,000 rows per sheet and 5 MB per file.",
            "After uploading, a preview shows every row; nothing is saved until you confirm.",
        ]
    return [
        "填写说明",
        "每类数据一个工作表：部门、运营场所、用户、检查表模板。请保留表头行；表头可用中文或英文。带 * 的列为必填。",
        "按编码匹配（用户按用户名）：新编码将新建；已有编码如有不同将修改；内容相同则不变。导入不会删除任何数据。",
        "部门：类型为 部门、分支机构 或 区域；上级部门编码可以引用本表后面定义的部门。",
        "运营场所：部门编码必须存在；纬度 -90 至 90，经度 -180 至 180（两者同时填写或都不填）；场所负责人填该部门人员的编码或姓名。",
        "用户：角色为 系统管理员、管理层、督导员、部门负责人 或 员工；部门负责人和员工必须填写部门编码。"
        "新用户将获得临时密码，导入后仅显示一次；首次登录时必须修改。",
        "检查表模板：每个检查项一行；同一模板的各行即为整个模板（未列出的检查项将被移除）。不合格须拍照：是 或 否。",
        "请填写数值，不要使用公式。每个工作表最多 5,000 行，每个文件最多 5 MB。",
        "上传后会先显示预览，确认之前不会保存任何数据。",
    ]


def build_workbook(lang: str, rows: dict[str, list[dict]] | None = None) -> bytes:
    """The template (rows None: headers, dropdowns and an example-free body) or an export (rows per
    kind, values as codes: labels are written in `lang`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    info = wb.active
    info.title = INSTRUCTIONS["en" if lang == "en" else "zh"]
    for line in _instructions(lang):
        info.append([line])
    info["A1"].font = Font(bold=True, size=14)
    info.column_dimensions["A"].width = 120
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE7F0")
    for sheet in SHEETS:
        ws = wb.create_sheet(sheet.title(lang))
        ws.append([c.header(lang) + (" *" if c.required else "") for c in sheet.columns])
        for i, col in enumerate(sheet.columns, start=1):
            cell = ws.cell(row=1, column=i)
            cell.font = bold
            cell.fill = fill
            ws.column_dimensions[get_column_letter(i)].width = col.width
        ws.freeze_panes = "A2"
        for record in (rows or {}).get(sheet.kind, []):
            ws.append([_export_value(col, record.get(col.key), lang, ws) for col in sheet.columns])
        for i, col in enumerate(sheet.columns, start=1):
            if not col.choices:
                continue
            labels = [choice_label(col.choices, code, lang) for code in CHOICES[col.choices]]
            dv = DataValidation(type="list", formula1='"' + ",".join(labels) + '"', allow_blank=True)
            dv.error = _("Choose one of the offered options.")
            dv.showErrorMessage = True
            letter = get_column_letter(i)
            dv.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
            ws.add_data_validation(dv)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _export_value(col: Column, value, lang: str, ws):
    if value is None:
        return None
    if col.choices:
        try:
            return choice_label(col.choices, value, lang)
        except KeyError:
            return str(value)
    if isinstance(value, str):
        return safe_cell(ws, value)
    return value
