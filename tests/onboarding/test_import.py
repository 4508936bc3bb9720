"""A small company imported from a workbook: preview, nothing written before the confirmation, one
confirmation writes it all (audited), the same file again changes nothing; errors by row and column in
both languages; an export edited and imported again."""

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.onboarding.helpers import company, preview_id, rows_of, upload, workbook
from webapp.audit.models import AuditEntry
from webapp.auth.models import User
from webapp.checklists.models import ChecklistTemplate
from webapp.extensions import db
from webapp.org.models import Department, Person, Site


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _counts() -> dict:
    return {m.__name__: _count(m) for m in (Department, Site, User, Person, ChecklistTemplate, AuditEntry)}


@pytest.fixture
def admin(create_user, auth):
    user = create_user("admin1", role="admin", locale="en")
    auth.login("admin1")
    return user


def _confirm(client, auth, pid):
    return client.post(f"/admin/import/{pid}/confirm", data={"csrf_token": auth.csrf()})


def test_small_company_preview_confirm_and_same_file_again(client, auth, admin):
    before = _counts()
    data = workbook(lang="zh", **company())
    pid = preview_id(upload(client, auth, data))
    assert _counts() == before  # the preview ran every operation and rolled them back
    html = client.get(f"/admin/import/{pid}").get_data(as_text=True)
    assert rows_of(html, "departments") == [("create", "2"), ("create", "3")]
    assert rows_of(html, "sites") == [("create", "2"), ("create", "3"), ("create", "4")]
    assert rows_of(html, "users") == [("create", "2"), ("create", "3"), ("create", "4"), ("create", "5")]
    assert rows_of(html, "templates") == [("create", "2"), ("create", "3"), ("create", "4")]
    assert "Confirm the import" in html and "Nothing has been saved yet" in html
    assert _counts() == before

    done = _confirm(client, auth, pid)
    assert done.status_code == 200
    assert done.headers["Cache-Control"] == "no-store"
    page = done.get_data(as_text=True)
    db.session.expire_all()

    east = db.session.scalar(select(Department).where(Department.code == "EAST"))
    east1 = db.session.scalar(select(Department).where(Department.code == "EAST-1"))
    assert (east.kind, east.parent_id) == ("region", None)
    assert (east1.kind, east1.parent_id, east1.name_en) == ("branch", east.id, "East 1")
    s1 = db.session.scalar(select(Site).where(Site.code == "S-001"))
    assert (s1.department_id, s1.lat, s1.lng, s1.geofence_radius_m, s1.site_class) == (east1.id, 31.235, 121.475,
                                                                                      300, "A")
    assert s1.manager.name == "李部长"
    assert db.session.scalar(select(Site).where(Site.code == "S-002")).geofence_radius_m == 200
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username != "admin1"))}
    assert {n: u.role for n, u in users.items()} == {"li.head": "dept_head", "wang.sup": "supervisor",
                                                     "zhao.staff": "staff", "chen.mgr": "manager"}
    head = users["li.head"]
    assert (head.department_id, head.email, head.mobile, head.locale) == (east1.id, "li@example.com",
                                                                          "13800138000", "zh_CN")
    assert all(u.must_change_password for u in users.values())
    # Each temporary password is on the page once, works, and is stored only as a hash.
    for u in users.values():
        shown = page.split(f"<td data-label=\"Username\">{u.username}</td>", 1)[1]
        password = shown.split('class="temp-password">', 1)[1].split("<", 1)[0]
        assert len(password) == 12 and u.check_password(password) and password not in u.password_hash
    tpl = db.session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == "STORE"))
    assert (tpl.name, tpl.name_en, tpl.revision) == ("门店检查表", "Store checklist", 1)
    assert [(i.code, i.area, i.weight, i.scoring, i.max_points, i.photo_required_on_fail) for i in tpl.items] == [
        ("P1", "process", 2.0, "pass_fail", 10.0, True), ("S1", "service", 1.0, "points", 20.0, False),
        ("R1", "risk", 1.0, "pass_fail", 10.0, True)]
    actions = [a for (a,) in db.session.execute(select(AuditEntry.action).where(AuditEntry.user_id == admin.id))]
    assert sorted(actions) == sorted(["department.create"] * 2 + ["site.create"] * 3 + ["user.imported"] * 4
                                     + ["template.created", "import.applied"])
    # The preview is gone once applied.
    assert client.get(f"/admin/import/{pid}").status_code == 404

    # The same file again: every row unchanged, and confirming writes nothing, audits nothing.
    after = _counts()
    pid = preview_id(upload(client, auth, data))
    html = client.get(f"/admin/import/{pid}").get_data(as_text=True)
    statuses = {s for k in ("departments", "sites", "users", "templates") for s, _n in rows_of(html, k)}
    assert statuses == {"unchanged"}
    assert "there is nothing to save" in html and "Confirm the import" not in html
    assert _confirm(client, auth, pid).status_code == 200
    assert _counts() == after


def test_temporary_passwords_download_once(client, auth, admin):
    pid = preview_id(upload(client, auth, workbook(users=[{"username": "new.sup", "display_name": "新督导",
                                                           "role": "supervisor"}])))
    page = _confirm(client, auth, pid).get_data(as_text=True)
    password = page.split('class="temp-password">', 1)[1].split("<", 1)[0]
    first = client.post(f"/admin/import/{pid}/passwords.xlsx", data={"csrf_token": auth.csrf()})
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    ws = load_workbook(io.BytesIO(first.data)).active
    assert [c.value for c in ws[2]] == ["new.sup", "新督导", password]
    again = client.post(f"/admin/import/{pid}/passwords.xlsx", data={"csrf_token": auth.csrf()})
    assert again.status_code == 404
    # Nothing readable is left on disk.
    from pathlib import Path

    left = list((Path(client.application.instance_path) / "onboarding").glob(f"{pid}*"))
    assert left == []


def _error_file(lang, fixed=False):
    rows = company(lang)
    rows["sites"][1]["department_code"] = "EAST-1" if fixed else "NOWHERE"
    rows["sites"][2]["lat"] = 31.2 if fixed else 200
    rows["sites"][2]["lng"] = 121.4
    rows["users"][1]["role"] = "supervisor" if fixed else "boss"
    return workbook(lang=lang, **rows)


@pytest.mark.parametrize("locale,expected", [
    ("en", ['Row 3, column “Department code”: No department has this code (check the Departments sheet).',
            'Row 4, column “Latitude”: This number is out of range.',
            'Row 3, column “Role”: Choose one of the offered options.']),
    ("zh_CN", ['第 3 行，“部门编码”列：没有此编码的部门（请检查“部门”工作表）。',
               '第 4 行，“纬度”列：数值超出范围。',
               '第 3 行，“角色”列：请从给出的选项中选择。']),
])
def test_errors_by_row_and_column_then_fixed(client, auth, create_user, locale, expected):
    create_user("admin1", role="admin", locale=locale)
    auth.login("admin1")
    before = _counts()
    pid = preview_id(upload(client, auth, _error_file("en" if locale == "en" else "zh")))
    html = client.get(f"/admin/import/{pid}").get_data(as_text=True)
    for message in expected:
        assert message in html
    assert ("error", "3") in rows_of(html, "sites") and ("error", "4") in rows_of(html, "sites")
    assert ("error", "3") in rows_of(html, "users")
    assert 'action="/admin/import/' + pid + '/confirm"' not in html  # no confirm button while errors
    refused = _confirm(client, auth, pid)
    assert refused.status_code == 409
    assert _counts() == before
    pid = preview_id(upload(client, auth, _error_file("en" if locale == "en" else "zh", fixed=True)))
    assert _confirm(client, auth, pid).status_code == 200
    db.session.expire_all()
    assert _count(Site) == 3 and db.session.scalar(select(User.role).where(User.username == "wang.sup")) == "supervisor"


def test_changes_shown_old_to_new_and_applied(client, auth, admin):
    pid = preview_id(upload(client, auth, workbook(**company())))
    _confirm(client, auth, pid)
    export = client.get("/admin/import/export.xlsx")
    wb = load_workbook(io.BytesIO(export.data))
    ws = wb["Departments"]
    assert [c.value for c in ws[1]] == ["Code *", "Name *", "English name", "Kind", "Parent code"]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "EAST")
    row[1].value = "华东大区"
    users = wb["Users"]
    urow = next(r for r in users.iter_rows(min_row=2) if r[0].value == "zhao.staff")
    urow[2].value = "Supervisor"
    items = wb["Checklist templates"]
    irow = next(r for r in items.iter_rows(min_row=2) if r[3].value == "S1")
    irow[8].value = 3
    buf = io.BytesIO()
    wb.save(buf)
    pid = preview_id(upload(client, auth, buf.getvalue()))
    html = client.get(f"/admin/import/{pid}").get_data(as_text=True)
    assert "<del>华东区</del> → <ins>华东大区</ins>" in html
    assert "<del>Staff</del> → <ins>Supervisor</ins>" in html
    assert "<del>1</del> → <ins>3</ins>" in html
    assert sorted(s for s, _n in rows_of(html, "departments")) == ["change", "unchanged"]
    audit_before = _count(AuditEntry)
    assert _confirm(client, auth, pid).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(Department.name).where(Department.code == "EAST")) == "华东大区"
    assert db.session.scalar(select(User.role).where(User.username == "zhao.staff")) == "supervisor"
    tpl = db.session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.is_current.is_(True)))
    assert [i.weight for i in tpl.items if i.code == "S1"] == [3.0]
    new = [a for (a,) in db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id))][audit_before:]
    assert sorted(new) == ["department.update", "import.applied", "template.edited", "user.update"]


def test_export_reimported_is_unchanged_in_both_languages(client, auth, admin, create_department, create_user):
    parent = create_department("HQ", "总部", kind="region")
    create_department("OPS", "运营部", parent_id=parent.id)
    create_user("sup9", role="supervisor", email="s9@example.com", mobile="139 0000 0000")
    pid = preview_id(upload(client, auth, workbook(**company())))
    _confirm(client, auth, pid)
    for lang in ("en", "zh_CN"):
        admin.locale = lang
        db.session.commit()
        data = client.get("/admin/import/export.xlsx").data
        wb = load_workbook(io.BytesIO(data))
        assert wb.sheetnames == (["Instructions", "Departments", "Sites", "Users", "Checklist templates"]
                                 if lang == "en" else ["说明", "部门", "运营场所", "用户", "检查表模板"])
        pid = preview_id(upload(client, auth, data))
        html = client.get(f"/admin/import/{pid}").get_data(as_text=True)
        statuses = [s for k in ("departments", "sites", "users", "templates") for s, _n in rows_of(html, k)]
        assert statuses and set(statuses) == {"unchanged"}, html


def test_template_used_by_visits_becomes_a_new_revision(client, auth, admin, app):
    from tests.onboarding.helpers import company as c

    rows = c()
    pid = preview_id(upload(client, auth, workbook(templates=rows["templates"])))
    _confirm(client, auth, pid)
    tpl = db.session.scalar(select(ChecklistTemplate))
    from webapp.visits.models import Visit

    dept = Department(code="V1", name="V")
    db.session.add(dept)
    db.session.flush()
    site = Site(code="VS", name="VS", department_id=dept.id)
    db.session.add(site)
    db.session.flush()
    import datetime as dt

    db.session.add(Visit(site_id=site.id, template_id=tpl.id, supervisor_id=admin.id,
                         scheduled_for=dt.date(2026, 11, 20), department_id=dept.id))
    db.session.commit()
    rows["templates"][2]["title"] = "消防通道畅通"
    pid = preview_id(upload(client, auth, workbook(templates=rows["templates"][1:])))
    html = client.get(f"/admin/import/{pid}").get_data(as_text=True)
    assert "P1" in html and "will be removed" in html and "revision 2" in html
    _confirm(client, auth, pid)
    db.session.expire_all()
    revisions = db.session.scalars(select(ChecklistTemplate).order_by(ChecklistTemplate.revision)).all()
    assert [(t.revision, t.is_current, len(t.items)) for t in revisions] == [(1, False, 3), (2, True, 2)]


def test_a_column_left_out_keeps_the_value_a_blank_cell_clears_it(client, auth, admin):
    from openpyxl import Workbook

    pid = preview_id(upload(client, auth, workbook(**company())))
    _confirm(client, auth, pid)

    def short_users(email):
        wb = Workbook()
        ws = wb.active
        ws.title = "用户"
        ws.append(["用户名", "姓名", "角色"] + (["邮箱"] if email is not None else []))
        ws.append(["li.head", "李部长", "部门负责人"] + ([email] if email is not None else []))
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    html = client.get(f"/admin/import/{preview_id(upload(client, auth, short_users(None)))}").get_data(as_text=True)
    assert rows_of(html, "users") == [("unchanged", "2")]
    html = client.get(f"/admin/import/{preview_id(upload(client, auth, short_users('')))}").get_data(as_text=True)
    assert rows_of(html, "users") == [("change", "2")]
    assert "<del>li@example.com</del> → <ins>—</ins>" in html
