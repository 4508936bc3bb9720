"""Only administrators, only their own previews, only with the CSRF token."""

import pytest
from sqlalchemy import func, select

from tests.onboarding.helpers import preview_id, upload, workbook
from webapp.extensions import db
from webapp.org.models import Department

SAMPLE = {"departments": [{"code": "D1", "name": "一部"}]}


@pytest.fixture
def preview(client, auth, create_user):
    create_user("admin1", role="admin", locale="en")
    auth.login("admin1")
    pid = preview_id(upload(client, auth, workbook(**SAMPLE)))
    auth.logout()
    return pid


def _routes(pid):
    return [("get", "/admin/import/"), ("get", "/admin/import/template.xlsx"), ("get", "/admin/import/export.xlsx"),
            ("post", "/admin/import/"), ("get", f"/admin/import/{pid}"), ("post", f"/admin/import/{pid}/confirm"),
            ("post", f"/admin/import/{pid}/passwords.xlsx")]


@pytest.mark.parametrize("role", ["manager", "supervisor", "dept_head", "staff"])
def test_every_other_role_gets_403_on_every_route(client, auth, create_user, create_department, preview, role):
    dept = create_department("X1", "部门")
    create_user("other", role=role, department=dept)
    auth.login("other")
    for method, url in _routes(preview):
        data = {"csrf_token": auth.csrf()} if method == "post" else None
        resp = getattr(client, method)(url, data=data)
        assert resp.status_code == 403, (role, url, resp.status_code)
    assert db.session.scalar(select(func.count()).select_from(Department)) == 1


def test_signed_out_is_sent_to_sign_in(client, preview):
    for method, url in _routes(preview):
        resp = getattr(client, method)(url)
        assert resp.status_code in (302, 400, 401), url  # a POST without its token is refused first
        if method == "get":
            assert "/login" in resp.headers["Location"]


def test_another_administrators_preview_is_404(client, auth, create_user, preview):
    create_user("admin2", role="admin", locale="en")
    auth.login("admin2")
    assert client.get(f"/admin/import/{preview}").status_code == 404
    assert client.post(f"/admin/import/{preview}/confirm", data={"csrf_token": auth.csrf()}).status_code == 404
    assert client.post(f"/admin/import/{preview}/passwords.xlsx", data={"csrf_token": auth.csrf()}).status_code == 404
    assert client.get("/admin/import/..%2F..%2Fsecret_key").status_code == 404
    assert client.get("/admin/import/" + "a" * 100).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Department)) == 0


def test_missing_csrf_is_400_and_writes_nothing(client, auth, preview):
    auth.login("admin1")
    assert upload(client, auth, workbook(**SAMPLE), csrf=False).status_code == 400
    assert client.post(f"/admin/import/{preview}/confirm").status_code == 400
    assert client.post(f"/admin/import/{preview}/confirm", data={"csrf_token": "forged"}).status_code == 400
    assert client.post(f"/admin/import/{preview}/passwords.xlsx").status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Department)) == 0
    # With the token, the same preview applies.
    assert client.post(f"/admin/import/{preview}/confirm", data={"csrf_token": auth.csrf()}).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Department)) == 1


def test_admin_landing_page_links_the_import(client, auth, create_user):
    create_user("admin1", role="admin", locale="en")
    auth.login("admin1")
    html = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/import/"' in html and "Import from Excel" in html


def test_template_download_in_both_languages(client, auth, create_user, app):
    import io

    from openpyxl import load_workbook

    from webapp.onboarding.workbook import SHEETS

    admin = create_user("admin1", role="admin", locale="en")
    auth.login("admin1")
    for locale, lang, first in (("en", "en", "Instructions"), ("zh_CN", "zh", "说明")):
        admin.locale = locale
        db.session.commit()
        resp = client.get("/admin/import/template.xlsx")
        assert resp.status_code == 200
        assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        wb = load_workbook(io.BytesIO(resp.data))
        assert wb.sheetnames == [first] + [s.title(lang) for s in SHEETS]
        for spec in SHEETS:
            ws = wb[spec.title(lang)]
            assert [c.value for c in ws[1]] == [c.header(lang) + (" *" if c.required else "") for c in spec.columns]
            assert ws.max_row == 1
            covered = {str(dv.sqref).split(":")[0][:-1] for dv in ws.data_validations.dataValidation}
            assert covered == {chr(ord("A") + i) for i, col in enumerate(spec.columns) if col.choices}
        users = wb[SHEETS[2].title(lang)]
        roles = next(dv.formula1 for dv in users.data_validations.dataValidation)
        assert ("Department head" in roles) if lang == "en" else ("部门负责人" in roles)
        # The template as downloaded uploads cleanly: nothing to do.
        pid = preview_id(upload(client, auth, resp.data))
        page = client.get(f"/admin/import/{pid}").get_data(as_text=True)
        assert ("there is nothing to save" if lang == "en" else "无需保存") in page
