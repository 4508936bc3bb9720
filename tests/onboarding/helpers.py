"""Workbooks for the import tests, built with openpyxl as a person would fill the template."""

import io
import re

from openpyxl import Workbook, load_workbook

from webapp.onboarding.workbook import SHEET_BY_KIND


def workbook(lang="en", **sheets) -> bytes:
    """sheets: kind=[{column key: value}, ...]; headers in `lang` (zh or en)."""
    wb = Workbook()
    wb.remove(wb.active)
    for kind, rows in sheets.items():
        spec = SHEET_BY_KIND[kind]
        ws = wb.create_sheet(spec.title(lang))
        ws.append([c.header(lang) for c in spec.columns])
        for row in rows:
            ws.append([row.get(c.key) for c in spec.columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def company(lang="en") -> dict:
    """A small company: 2 departments (one under the other, the parent defined last), 3 sites, 4 users,
    one template with 3 items."""
    return {
        "departments": [
            {"code": "EAST-1", "name": "华东一店", "name_en": "East 1", "kind": "分支机构", "parent_code": "EAST"},
            {"code": "EAST", "name": "华东区", "name_en": "East region", "kind": "region"},
        ],
        "sites": [
            {"code": "S-001", "name": "南京路店", "department_code": "EAST-1", "address": "上海市南京路1号",
             "lat": 31.235, "lng": 121.475, "geofence_radius_m": 300, "site_class": "A", "manager": "li.head"},
            {"code": "S-002", "name": "淮海路店", "department_code": "EAST-1", "lat": 31.22, "lng": 121.46},
            {"code": "S-003", "name": "区域仓库", "name_en": "Warehouse", "department_code": "EAST"},
        ],
        "users": [
            {"username": "Li.Head", "display_name": "李部长", "role": "部门负责人", "department_code": "EAST-1",
             "email": "li@example.com", "mobile": 13800138000, "locale": "zh-CN"},
            {"username": "wang.sup", "display_name": "王督导", "role": "Supervisor", "department_code": "EAST"},
            {"username": "zhao.staff", "display_name": "赵员工", "role": "staff", "department_code": "EAST-1"},
            {"username": "chen.mgr", "display_name": "陈经理", "role": "管理层", "locale": "en"},
        ],
        "templates": [
            {"template_code": "store", "template_name": "门店检查表", "template_name_en": "Store checklist",
             "item_code": "P1", "area": "业务流程规范", "title": "收银流程", "weight": 2, "scoring": "Pass/fail",
             "photo_required_on_fail": "是"},
            {"template_code": "STORE", "template_name": "门店检查表", "template_name_en": "Store checklist",
             "item_code": "S1", "area": "service", "title": "服务态度", "title_en": "Attitude",
             "guidance": "观察三位顾客", "scoring": "计分", "max_points": 20, "photo_required_on_fail": "no"},
            {"template_code": "STORE", "template_name": "门店检查表", "template_name_en": "Store checklist",
             "item_code": "R1", "area": "Risk management", "title": "消防通道", "photo_required_on_fail": True},
        ],
    }


def upload(client, auth, data: bytes, name="import.xlsx", csrf=True):
    """The multipart body built here: werkzeug's test client would spool a big one to a temporary
    file it never closes (a ResourceWarning, an error under this suite's warning filter)."""
    boundary = "----onboarding-test-boundary"
    parts = []
    if csrf:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{auth.csrf()}\r\n'
                     .encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return client.post("/admin/import/", data=body, content_type=f"multipart/form-data; boundary={boundary}")


def preview_id(resp) -> str:
    assert resp.status_code == 303, resp.get_data(as_text=True)[:2000]
    return resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1]


def rows_of(html: str, kind: str) -> list[tuple[str, str]]:
    """(row number, status class) of the preview table of one sheet."""
    part = html.split(f'id="sheet-{kind}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr class="import-(\w+)">\s*<td[^>]*>(\d+)</td>', part)


def read(data: bytes):
    return load_workbook(io.BytesIO(data))
