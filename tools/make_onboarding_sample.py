"""Write e2e/data/onboarding-sample.xlsx: the small workbook the browser test of the import uploads.

    python tools/make_onboarding_sample.py [output path]

It holds 1 department, 1 site with coordinates, 1 supervisor and 1 deliberate error row (a user whose
role is "boss"), with Chinese headers as the downloaded template has them. The codes do not collide
with the demo data (`flask seed-demo`). Deterministic: the same bytes on every run.
"""

import io
import sys
import zipfile
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webapp.onboarding.workbook import SHEET_BY_KIND  # noqa: E402

ROWS = {
    "departments": [{"code": "E2E-DEPT", "name": "导入测试部", "name_en": "Import test department",
                     "kind": "部门"}],
    "sites": [{"code": "E2E-SITE", "name": "导入测试门店", "name_en": "Import test store",
               "department_code": "E2E-DEPT", "address": "上海市黄浦区南京东路 100 号", "lat": 31.2363,
               "lng": 121.4801, "geofence_radius_m": 200, "site_class": "B"}],
    "users": [
        {"username": "e2e.supervisor", "display_name": "导入督导员", "role": "督导员",
         "department_code": "E2E-DEPT", "email": "e2e.supervisor@example.com", "locale": "zh-CN"},
        {"username": "e2e.boss", "display_name": "错误角色", "role": "boss", "department_code": "E2E-DEPT"},
    ],
}


def build() -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for kind, rows in ROWS.items():
        spec = SHEET_BY_KIND[kind]
        ws = wb.create_sheet(spec.zh)
        ws.append([c.zh for c in spec.columns])
        for row in rows:
            ws.append([row.get(c.key) for c in spec.columns])
    wb.properties.creator = "tools/make_onboarding_sample.py"
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_times(buf.getvalue())


def _fixed_times(data: bytes) -> bytes:
    """The same bytes on every run: fixed timestamps in docProps/core.xml and in the zip entries."""
    import re

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2026-11-20T02:00:00Z", body)
            zi = zipfile.ZipInfo(info.filename, date_time=(2026, 11, 20, 10, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, body)
    return out.getvalue()


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "e2e" / "data" / "onboarding-sample.xlsx"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(build())
    print(target)
