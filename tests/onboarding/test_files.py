"""Hostile and broken files: a 4xx with a message in the user's language, or row errors; never a 500,
and never anything written."""

import io
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.onboarding.helpers import preview_id, rows_of, upload, workbook
from webapp.auth.models import User
from webapp.extensions import db
from webapp.org.models import Department


@pytest.fixture
def admin(create_user, auth):
    user = create_user("admin1", role="admin", locale="en")
    auth.login("admin1")
    return user


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def _xlsx(fill) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Departments"
    ws.append(["Code", "Name", "English name", "Kind", "Parent code"])
    fill(ws)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\x00" * (80 * 1024 * 1024))
    return buf.getvalue()


@pytest.mark.parametrize("name,data,status,message", [
    ("photo.xlsx", PNG, 400, "This is not an Excel workbook (.xlsx)"),
    ("empty.xlsx", b"", 400, "This is not an Excel workbook (.xlsx)"),
    ("fake.xlsx", b"PK\x03\x04" + b"\x00" * 100, 400, "This is not an Excel workbook (.xlsx)"),
    ("other.zip", None, 400, "This is not an Excel workbook (.xlsx)"),
    ("bomb.xlsx", "bomb", 413, "too large once unpacked"),
    ("broken.xlsx", "broken", 400, "This workbook cannot be opened"),
    ("big.xlsx", b"PK\x03\x04" + b"\x00" * (5 * 1024 * 1024 + 10), 413, "larger than 5 MB"),
    ("rows.xlsx", "rows", 413, "has more than 5000 rows"),
    ("unknown.xlsx", "unknown", 400, "No sheet of this workbook is one the import knows"),
])
def test_refused_files(client, auth, admin, name, data, status, message):
    if data is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("hello.txt", "hi")
        data = buf.getvalue()
    elif data == "bomb":
        data = _zip_bomb()
        assert len(data) < 1024 * 1024
    elif data == "broken":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("[Content_Types].xml", "<Types/>")
            zf.writestr("xl/workbook.xml", "<not really")
        data = buf.getvalue()
    elif data == "rows":
        data = _xlsx(lambda ws: [ws.append([f"D{i}", f"部门{i}"]) for i in range(5001)])
    elif data == "unknown":
        wb = Workbook()
        wb.active.title = "Sheet1"
        buf = io.BytesIO()
        wb.save(buf)
        data = buf.getvalue()
    resp = upload(client, auth, data, name)
    assert resp.status_code == status
    assert message in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Department)) == 0


def test_refused_file_in_chinese(client, auth, create_user):
    create_user("admin1", role="admin", locale="zh_CN")
    auth.login("admin1")
    resp = upload(client, auth, PNG, "photo.xlsx")
    assert resp.status_code == 400
    assert "这不是 Excel 工作簿（.xlsx）" in resp.get_data(as_text=True)


def test_no_file_and_5000_rows_accepted(client, auth, admin):
    token = auth.csrf()
    resp = client.post("/admin/import/", data={"csrf_token": token}, content_type="multipart/form-data")
    assert resp.status_code == 400 and "Choose an Excel file" in resp.get_data(as_text=True)


def test_formulas_control_characters_and_long_text_are_row_errors(client, auth, admin):
    def fill(ws):
        ws.append(["F1", "=1+1"])  # a formula
        ws.append(["F2", "=HYPERLINK(\"http://x\")"])
        ws.cell(row=3, column=2).data_type = "f"
        ws.append(["T1", "x" * 10_000])
        ws.append(["OK1", "好部门", "=not a formula"])
        ws.cell(row=5, column=3).data_type = "s"
        ws.cell(row=5, column=3).quotePrefix = True
        ws.append(["C1", "a_x0001_b"])  # Excel's escape of a control character
        ws.append(["bad code!", "名称"])
        ws.append(["K1", "名称", None, "kingdom"])
    resp = upload(client, auth, _xlsx(fill))
    html = client.get(f"/admin/import/{preview_id(resp)}").get_data(as_text=True)
    assert rows_of(html, "departments") == [("error", "2"), ("error", "3"), ("error", "4"), ("error", "5"),
                                            ("error", "6"), ("error", "7"), ("error", "8")]
    assert "Row 2, column “Name”: Formulas are not accepted: type the value itself." in html
    assert "Row 4, column “Name”: This text is too long." in html
    assert "Row 5, column “English name”: Do not start this text with = + - or @." in html
    assert "Row 6, column “Name”: This cell holds a control character (U+0001)" in html
    assert "Row 7, column “Code”: Use letters, digits" in html
    assert "Row 8, column “Kind”: Choose one of the offered options." in html
    assert db.session.scalar(select(func.count()).select_from(Department)) == 0


def test_nul_written_into_the_sheet_xml(client, auth, admin):
    """A NUL as Excel escapes it (_x0000_) is a row error; as a raw byte the XML is broken: a 400."""
    data = _xlsx(lambda ws: ws.append(["N1", "a_x0000_b"]))
    html = client.get(f"/admin/import/{preview_id(upload(client, auth, data))}").get_data(as_text=True)
    assert "control character (U+0000)" in html
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            body = src.read(info.filename)
            out.writestr(info, body.replace(b"a_x0000_b", b"a\x00b"))
    resp = upload(client, auth, buf.getvalue())
    assert resp.status_code in (303, 400)
    if resp.status_code == 303:
        html = client.get(resp.headers["Location"]).get_data(as_text=True)
        assert "control character" in html
    assert db.session.scalar(select(func.count()).select_from(Department)) == 0


def test_missing_required_column_blocks_the_sheet(client, auth, admin):
    wb = Workbook()
    ws = wb.active
    ws.title = "用户"
    ws.append(["用户名", "姓名"])
    ws.append(["x.user", "某人"])
    buf = io.BytesIO()
    wb.save(buf)
    pid = preview_id(upload(client, auth, buf.getvalue()))
    html = client.get(f"/admin/import/{pid}").get_data(as_text=True)
    assert "This sheet lacks required columns: Role" in html
    resp = client.post(f"/admin/import/{pid}/confirm", data={"csrf_token": auth.csrf()})
    assert resp.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_duplicates_cycles_and_own_role(client, auth, admin):
    data = workbook(departments=[
        {"code": "A", "name": "甲", "parent_code": "B"},
        {"code": "B", "name": "乙", "parent_code": "A"},
        {"code": "C", "name": "丙"},
        {"code": "C", "name": "丙二"},
    ], users=[
        {"username": "admin1", "display_name": "我", "role": "supervisor"},
        {"username": "h1", "display_name": "无部门负责人", "role": "dept_head"},
        {"username": "e1", "display_name": "邮箱", "role": "staff", "department_code": "C", "email": "not-an-email"},
    ])
    html = client.get(f"/admin/import/{preview_id(upload(client, auth, data))}").get_data(as_text=True)
    assert "Row 2, column “Parent code”: A department cannot be placed under itself" in html
    assert "Row 5, column “Code”: This is already given in row 4." in html
    assert "Row 2, column “Role”: You cannot change your own role in an import." in html
    assert "Row 3, column “Department code”: Department heads and staff need a department." in html
    assert "Row 4, column “Email”: Enter a valid email address." in html
