"""/admin/audit: administrators only; labels, names and old → new, never codes, ids or JSON."""

import re
from datetime import UTC, datetime

import pytest

from tests.conftest import PASSWORD, AuthActions, FreshContextClient, csrf_from
from webapp.audit.models import AuditEntry
from webapp.audit.operations import record_audit
from webapp.extensions import db
from webapp.users import operations as ops


def client_for(app, username):
    app.test_client_class = FreshContextClient
    c = app.test_client()
    assert AuthActions(c).login(username, PASSWORD).status_code == 302
    return c


@pytest.mark.parametrize("role", ("manager", "sup1", "head1", "staff1"))
def test_every_other_role_is_refused(app, world, role):
    c = client_for(app, role)
    csrf = csrf_from(c.get("/").get_data(as_text=True))
    assert c.get("/admin/audit/").status_code == 403
    assert c.get("/admin/audit/?kind=user").status_code == 403
    assert c.post("/admin/audit/", data={"csrf_token": csrf}).status_code in (403, 405)


def test_signed_out_goes_to_sign_in(client, world):
    r = client.get("/admin/audit/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


@pytest.fixture
def history(world):
    admin, staff, d2 = world["users"]["admin"], world["users"]["staff1"], world["depts"][1]
    ops.update_account(admin, staff, {"role": "dept_head", "department_id": d2.id})
    ops.deactivate_account(admin, world["users"]["sup2"])
    record_audit(admin, "widget.frobnicate", "widget", "w-1", {"colour_code": "blue", "widget_id": "secret-id-123"})
    db.session.commit()
    return world


def test_the_page_shows_labels_names_and_changes(app, history):
    c = client_for(app, "admin")
    html = c.get("/admin/audit/").get_data(as_text=True)
    assert "修改了用户角色" in html and "停用了用户" in html
    assert "员工 → 部门负责人" in html.replace("</del> <span aria-hidden=\"true\">→</span><span class=\"sr-only\">改为</span> <ins>", " → ").replace("<del>", "")
    assert "一部" in html and "二部" in html  # departments by name
    assert "员工甲" in html and "sup2" in html  # objects and actors by name
    assert "user.role_change" not in html and "dept_head" not in html and "{" not in html.split("<tbody>")[1]
    assert history["depts"][0].id not in html and "secret-id-123" not in html
    assert "Widget · frobnicate" in html and "Colour code: " not in html and "blue" in html  # an unknown code in a readable form
    assert f'href="/admin/users/{history["users"]["staff1"].id}"' in html  # linked to the user's page


def test_ids_inside_details_become_names(app, world):
    from webapp.visits.operations import reassign_visit

    admin, manager = world["users"]["admin"], world["users"]["manager"]
    visit, sup2 = world["visits"][0], world["users"]["sup2"]
    reassign_visit(visit, sup2.id, manager)
    record_audit(admin, "user.update", "user", sup2.id, {"changes": {"department": [None, "0" * 8 + "-0000-0000-0000-" + "0" * 12]}})
    db.session.commit()
    html = client_for(app, "admin").get("/admin/audit/").get_data(as_text=True)
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    assert f'href="/visits/{visit.id}"' in body
    body = re.sub(r'href="[^"]*"', "", body)
    assert "改派了巡查" in body and "sup1" in body and "sup2" in body and "测试场所" in body
    assert world["users"]["sup1"].id not in body and sup2.id not in body and "（已删除）" in body


def test_newest_first_and_filters(app, history):
    admin = history["users"]["admin"]
    old = AuditEntry(user_id=admin.id, action="template.created", entity="template", entity_id="t",
                     data={}, at=datetime(2026, 1, 5, 3, 0, tzinfo=UTC))
    db.session.add(old)
    db.session.commit()
    c = client_for(app, "admin")
    html = c.get("/admin/audit/").get_data(as_text=True)
    assert html.index("修改了用户角色") < html.index("创建了检查表模板")
    html = c.get("/admin/audit/?kind=template").get_data(as_text=True)
    assert "创建了检查表模板" in html and "停用了用户" not in html
    html = c.get("/admin/audit/?kind=user").get_data(as_text=True)
    assert "停用了用户" in html and "创建了检查表模板" not in html
    html = c.get("/admin/audit/?date_from=2026-01-01&date_to=2026-01-31").get_data(as_text=True)
    assert "创建了检查表模板" in html and "停用了用户" not in html
    html = c.get(f"/admin/audit/?actor={history['users']['manager'].id}").get_data(as_text=True)
    assert "没有符合筛选条件的记录" in html
    html = c.get(f"/admin/audit/?entity=user&entity_id={history['users']['sup2'].id}").get_data(as_text=True)
    assert "sup2 的变更历史" in html and "停用了用户" in html and "修改了用户角色" not in html
    # Malformed filters are left out, and the page says so.
    r = c.get("/admin/audit/?date_from=yesterday&kind=evil&page=0&actor=" + "x" * 10_000)
    assert r.status_code == 200 and "已忽略" in r.get_data(as_text=True)


def test_when_is_in_the_users_timezone(app, history):
    admin = history["users"]["admin"]
    db.session.add(AuditEntry(user_id=admin.id, action="user.unlock", entity="user", entity_id=admin.id,
                              data={"failed_sign_ins": 3, "addresses": 1}, at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC)))
    db.session.commit()
    c = client_for(app, "admin")
    html = c.get("/admin/audit/?date_from=2026-03-02&date_to=2026-03-02").get_data(as_text=True)
    assert "解除了用户登录限制" in html and "07:30" in html  # Shanghai, the next morning
    assert "清除的失败登录次数" in html


def test_paginated(app, world):
    admin = world["users"]["admin"]
    for i in range(60):
        record_audit(admin, "user.unlock", "user", admin.id, {"failed_sign_ins": i, "addresses": 0})
    db.session.commit()
    c = client_for(app, "admin")
    first = c.get("/admin/audit/").get_data(as_text=True)
    assert "第 1 页，共 2 页" in first and 'rel="next"' in first
    second = c.get("/admin/audit/?page=2").get_data(as_text=True)
    assert second.count('data-label="时间"') == 10


def test_english(app, history):
    c = client_for(app, "admin")
    c.post("/locale", data={"csrf_token": csrf_from(c.get("/admin/audit/").get_data(as_text=True)), "locale": "en"})
    html = c.get("/admin/audit/").get_data(as_text=True)
    assert "Changed a user&#39;s role" in html and "Disabled a user" in html and "Department head" in html
