"""Evaluation pages: who sees and writes what (URL guessing included), htmx fragments, errors in both
languages, drill-down links."""

import re

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from
from webapp.extensions import db
from webapp.results.models import Evaluation

HX = {"HX-Request": "true"}
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def _urls(h):
    v1, plan = h["visits"][0].id, h["plan"].id
    return {
        "index": "/results/evaluation/",
        "visit": f"/results/evaluation/visits/{v1}",
        "visit_edit": f"/results/evaluation/visits/{v1}/edit",
        "plan": f"/results/evaluation/plans/{plan}",
        "plan_edit": f"/results/evaluation/plans/{plan}/edit",
    }


# v1 and the plan belong to sup1 / department D1.
TABLE = {
    #            index visit visit_edit plan plan_edit
    "admin":   (200, 200, 200, 200, 200),
    "manager": (200, 200, 200, 200, 200),
    "sup1":    (200, 200, 200, 200, 200),
    "sup2":    (200, 404, 404, 200, 403),
    "head1":   (200, 200, 403, 200, 403),
    "head2":   (200, 404, 404, 404, 404),
    "staff1":  (403, 404, 404, 404, 404),
}


@pytest.mark.parametrize("who", TABLE)
def test_role_by_url(client, auth, history, who):
    auth.login(who)
    urls = _urls(history)
    got = tuple(client.get(urls[k]).status_code for k in ("index", "visit", "visit_edit", "plan", "plan_edit"))
    assert got == TABLE[who]


def test_unknown_ids_are_404(client, auth, history):
    auth.login("manager")
    assert client.get("/results/evaluation/visits/nope").status_code == 404
    assert client.get("/results/evaluation/plans/nope/edit").status_code == 404


def test_visit_page_shows_the_comparison_with_drill_down_links(client, auth, history):
    auth.login("manager")
    page = client.get(_urls(history)["visit"], headers=EN).get_data(as_text=True)
    assert "<html" in page and 'data-chart="bar"' in page and "charts.js" in page
    site = history["sites"][0].id
    assert f'href="/findings/?date_from=2026-10-20&amp;date_to=2026-10-20&amp;site_id={site}"' in page
    assert f"/findings/?date_from=2026-09-10&amp;date_to=2026-09-10&amp;severity=low&amp;site_id={site}" in page
    assert "repeat=1" in page
    assert "日均客流" in page and "+60" in page  # the figure and its change


def test_htmx_gets_the_fragment_only(client, auth, history):
    auth.login("sup1")
    resp = client.get(_urls(history)["plan"], headers=HX)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body
    assert 'id="cmp-h"' in body and "HX-Request" in resp.headers.get("Vary", "")
    full = client.get(_urls(history)["plan"]).get_data(as_text=True)
    assert "<html" in full


def test_supervisor_writes_the_evaluation(client, auth, history):
    auth.login("sup1")
    url = _urls(history)["visit_edit"]
    token = csrf_from(client.get(url).get_data(as_text=True))
    resp = client.post(url, data={"csrf_token": token, "lessons": "先调阅话务报表", "suggestions": "弹性排班"})
    assert resp.status_code == 302 and resp.location.endswith(_urls(history)["visit"])
    db.session.rollback()
    e = db.session.scalar(select(Evaluation).where(Evaluation.visit_id == history["visits"][0].id))
    assert (e.lessons, e.suggestions) == ("先调阅话务报表", "弹性排班")
    page = client.get(_urls(history)["visit"], headers=EN).get_data(as_text=True)
    assert "Turn into a policy suggestion" in page and "先调阅话务报表" in page


@pytest.mark.parametrize(("headers", "message"), [
    (EN, "Write at least one part of the evaluation."), (ZH, "请至少填写评估的一项内容。")])
def test_empty_evaluation_gets_an_error_in_the_users_language(client, auth, history, headers, message):
    auth.login("manager")
    url = _urls(history)["plan_edit"]
    token = csrf_from(client.get(url).get_data(as_text=True))
    resp = client.post(url, data={"csrf_token": token, "lessons": "  "}, headers=headers)
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(Evaluation)) is None


@pytest.mark.parametrize(("headers", "message"), [(EN, "This text is too long."), (ZH, "内容过长。")])
def test_too_long_text_keeps_what_was_typed(client, auth, history, headers, message):
    auth.login("manager")
    url = _urls(history)["visit_edit"]
    token = csrf_from(client.get(url).get_data(as_text=True))
    resp = client.post(url, data={"csrf_token": token, "lessons": "x" * 10001, "went_well": "保留我"}, headers=headers)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and message in body and "保留我" in body


def test_visit_and_plan_pages_link_to_their_evaluation(client, auth, history):
    auth.login("head1")
    visit_page = client.get(f"/visits/{history['visits'][0].id}").get_data(as_text=True)
    assert _urls(history)["visit"] in visit_page
    assert _urls(history)["plan"] in client.get(f"/plans/{history['plan'].id}").get_data(as_text=True)
    auth.logout()
    auth.login("staff1")
    page = client.get(f"/visits/{history['visits'][0].id}").get_data(as_text=True)
    assert "/results/evaluation/" not in page


def test_index_lists_only_evaluations_in_scope(client, auth, history, evaluation):
    auth.login("head1")
    assert _urls(history)["visit"] in client.get("/results/evaluation/").get_data(as_text=True)
    auth.logout()
    auth.login("head2")
    page = client.get("/results/evaluation/", headers=HX).get_data(as_text=True)
    assert _urls(history)["visit"] not in page and "<html" not in page
    assert re.search(r"No evaluations yet|还没有", page)
