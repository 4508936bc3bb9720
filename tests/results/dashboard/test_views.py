"""The dashboard page: who may open it, page vs htmx fragment, bad input, both languages, and that
its numbers lead to lists of exactly that many findings."""

import re
from html import unescape

import pytest

from tests.conftest import PASSWORD


def _login(client, auth, user):
    auth.login(user.username, PASSWORD)


def _titles(html):
    return re.findall(r'class="finding-link" href="[^"]+"[^>]*>([^<]+)</a>', html)


@pytest.mark.parametrize("role, status", [("manager", 200), ("admin", 200), ("supervisor", 403),
                                          ("dept_head", 403), ("staff", 403)])
def test_only_management_opens_the_dashboard(client, auth, create_user, create_department, role, status):
    dept = create_department()
    create_user("u", role, department=dept if role in ("dept_head", "staff") else None)
    auth.login("u")
    assert client.get("/results/").status_code == status


def test_signed_out_is_sent_to_sign_in(client):
    r = client.get("/results/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_full_page_and_htmx_fragment(client, auth, kpi):
    _login(client, auth, kpi["manager"])
    page = client.get("/results/?period=2026-Q3")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and 'id="dashboard"' in html
    assert "chart-4.6.1.umd.min.js" in html and 'data-chart="bar"' in html
    assert "HX-Request" in page.headers.get("Vary", "")
    frag = client.get("/results/?period=2026-Q3", headers={"HX-Request": "true"})
    body = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in body and body.lstrip().startswith('<div id="dashboard">')
    assert "HX-Request" in frag.headers.get("Vary", "")


@pytest.mark.parametrize("query, field", [
    ("period=2026-Q5", "period"), ("period=yesterday", "period"), ("period=2099-Q1", "period"),
    ("department_id=nope", "department"), ("site_id=" + "x" * 40, "site"),
])
@pytest.mark.parametrize("lang, labels", [("en", ("Reporting period", "Responsible department", "Site")),
                                          ("zh-CN", ("考核周期", "责任部门", "运营场所"))])
def test_bad_input_is_a_clear_error_in_the_users_language(client, auth, kpi, query, field, lang, labels):
    _login(client, auth, kpi["manager"])
    for headers in ({}, {"HX-Request": "true"}):
        r = client.get(f"/results/?{query}", headers={"Accept-Language": lang, **headers})
        html = r.get_data(as_text=True)
        assert r.status_code == 400
        alert = unescape(html.split('role="alert"', 1)[1].split("</div>", 1)[0])
        label = dict(zip(("period", "department", "site"), labels, strict=True))[field]
        assert f"<strong>{label}</strong>: " in alert, alert
        message = alert.split(f"<strong>{label}</strong>: ", 1)[1].split("</p>", 1)[0]
        assert (re.search(r"[\u4e00-\u9fff]", message) is not None) == (lang == "zh-CN"), message


def test_both_languages(client, auth, kpi):
    _login(client, auth, kpi["manager"])
    en = client.get("/results/?period=2026-Q3", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Decision dashboard" in en and "On-time rectification rate" in en and "Q3 2026" in en
    zh = client.get("/results/?period=2026-Q3", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "决策支持" in zh and "按期整改率" in zh and "一次验收通过率" in zh and "2026年第3季度" in zh


def test_every_figure_links_to_a_list_of_that_many_findings(client, auth, kpi):
    """Follow the KPI and department links and count what the findings list shows."""
    _login(client, auth, kpi["manager"])
    html = client.get("/results/?period=2026-Q3").get_data(as_text=True)
    links = {}
    for href, text in re.findall(r'<a (?:class="kpi-value" )?href="(/findings/\?[^"]+)">\s*([^<]+?)\s*</a>', html):
        links.setdefault(unescape(href), text)
    checked = 0
    for href, text in links.items():
        if not text.isdigit():
            continue
        listed = _titles(client.get(href).get_data(as_text=True))
        assert len(listed) == int(text), (href, text, listed)
        checked += 1
    assert checked >= 20
    # The rates' numerators and denominators are exact sets.
    a = kpi["a"].id
    dept_now = unescape(re.search(rf'href="(/findings/\?[^"]*date_from=2026-07-01[^"]*department_id={a}[^"]*)"', html)
                        .group(1))
    assert sorted(_titles(client.get(dept_now).get_data(as_text=True))) == ["f1", "f2", "f3", "f4"]
    on_time = unescape(re.search(r'href="(/findings/\?[^"]*rectification=on_time[^"]*)"', html).group(1))
    assert sorted(_titles(client.get(on_time).get_data(as_text=True))) == ["f1", "f2"]
    due = unescape(re.search(r'href="(/findings/\?[^"]*rectification=due[^"]*)"', html).group(1))
    assert sorted(_titles(client.get(due).get_data(as_text=True))) == ["f1", "f2", "f3", "f5"]


def test_filters_keep_to_department_and_site(client, auth, kpi):
    _login(client, auth, kpi["manager"])
    html = client.get(f"/results/?period=2026-Q3&department_id={kpi['b'].id}").get_data(as_text=True)
    kpi_findings = re.search(r'class="kpi-value" href="([^"]+)">(\d+)<', html)
    assert kpi_findings.group(2) == "1" and f"department_id={kpi['b'].id}" in unescape(kpi_findings.group(1))
    html = client.get(f"/results/?period=2026-Q3&site_id={kpi['sa'].id}").get_data(as_text=True)
    assert re.search(r'class="kpi-value" href="[^"]+">(\d+)<', html).group(1) == "4"
    site_table = html.split('id="chart-site"')[1].split("</table>")[0]
    assert site_table.count('<th scope="row">') == 1 and f"site_id={kpi['sa'].id}" in unescape(site_table)


def test_the_nav_shows_the_dashboard_to_managers(client, auth, kpi):
    _login(client, auth, kpi["manager"])
    assert 'href="/results/"' in client.get("/").get_data(as_text=True)
    auth.logout()
    _login(client, auth, kpi["sup"])
    assert 'href="/results/"' not in client.get("/").get_data(as_text=True)
