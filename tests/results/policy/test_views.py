"""Policy log pages: role × URL table with URL guessing, htmx fragments, errors in both languages,
the workflow through HTTP, and the links from findings and evaluations."""

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from
from webapp.extensions import db
from webapp.results.models import PolicySuggestion

HX = {"HX-Request": "true"}
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}

# suggestion proposed by sup1
TABLE = {
    #           list  detail new  edit
    "admin":   (200, 200, 200, 200),
    "manager": (200, 200, 200, 200),
    "sup1":    (200, 200, 200, 200),
    "sup2":    (200, 200, 200, 403),
    "head1":   (200, 200, 403, 403),
    "staff1":  (403, 404, 403, 404),
}


@pytest.mark.parametrize("who", TABLE)
def test_role_by_url(client, auth, suggestion, who):
    auth.login(who)
    base = "/results/policy"
    got = tuple(client.get(u).status_code for u in (
        f"{base}/", f"{base}/{suggestion.id}", f"{base}/new", f"{base}/{suggestion.id}/edit"))
    assert got == TABLE[who]
    assert client.get(f"{base}/00000000-0000-0000-0000-000000000000").status_code in (403, 404)


@pytest.mark.parametrize("who", ["sup1", "head1"])
def test_non_managers_cannot_post_transitions(client, auth, suggestion, who):
    auth.login(who)
    token = csrf_from(client.get("/results/policy/").get_data(as_text=True))
    resp = client.post(f"/results/policy/{suggestion.id}/transition", data={"csrf_token": token, "to": "under_review"})
    assert resp.status_code == 403
    db.session.rollback()
    assert db.session.get(PolicySuggestion, suggestion.id).status == "proposed"


def test_list_tabs_and_htmx_fragment(client, auth, suggestion):
    auth.login("manager")
    full = client.get("/results/policy/", headers=EN)
    assert "<html" in full.get_data(as_text=True) and "Proposed (1)" in full.get_data(as_text=True)
    frag = client.get("/results/policy/?status=adopted", headers=HX)
    body = frag.get_data(as_text=True)
    assert "<html" not in body and "修订现金管理规定" not in body and "HX-Request" in frag.headers["Vary"]
    assert "修订现金管理规定" in client.get("/results/policy/?status=proposed&source_type=finding").get_data(as_text=True)
    assert "修订现金管理规定" not in client.get("/results/policy/?source_type=evaluation").get_data(as_text=True)
    assert client.get("/results/policy/?status=bogus").status_code == 200  # a bad filter is ignored


def test_workflow_through_http_with_history(client, auth, suggestion):
    auth.login("manager")
    url = f"/results/policy/{suggestion.id}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    assert client.post(f"{url}/transition", data={"csrf_token": token, "to": "under_review", "comment": "例会讨论"}).status_code == 302
    bad = client.post(f"{url}/transition", data={"csrf_token": token, "to": "implemented"}, headers=EN)
    assert bad.status_code == 400 and "This status change is not allowed." in bad.get_data(as_text=True)
    assert client.post(f"{url}/transition", data={"csrf_token": token, "to": "adopted"}).status_code == 302
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert "Adopted" in page and "Under review" in page and "例会讨论" in page and "Mark implemented" in page


@pytest.mark.parametrize(("headers", "message"), [(EN, "Say why the suggestion is not adopted."),
                                                  (ZH, "请说明不予采纳的理由。")])
def test_rejecting_without_reason_in_both_languages(client, auth, suggestion, headers, message):
    auth.login("admin")
    url = f"/results/policy/{suggestion.id}"
    token = csrf_from(client.get(url).get_data(as_text=True))
    resp = client.post(f"{url}/transition", data={"csrf_token": token, "to": "rejected"}, headers=headers)
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)


@pytest.mark.parametrize(("headers", "message"), [(EN, "This field is required."), (ZH, "此项为必填项。")])
def test_blank_title_is_refused_and_body_kept(client, auth, world, headers, message):
    auth.login("sup1")
    token = csrf_from(client.get("/results/policy/new").get_data(as_text=True))
    resp = client.post("/results/policy/new", data={"csrf_token": token, "title": " ", "body": "保留正文"}, headers=headers)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and message in body and "保留正文" in body
    db.session.rollback()
    assert db.session.scalar(select(PolicySuggestion)) is None


def test_bad_source_and_owner_errors(client, auth, world):
    auth.login("manager")
    token = csrf_from(client.get("/results/policy/new").get_data(as_text=True))
    resp = client.post("/results/policy/new", data={"csrf_token": token, "title": "t", "source_type": "memo",
                                                    "owner_id": "nobody"}, headers=EN)
    assert resp.status_code == 400 and "Choose one of the offered options." in resp.get_data(as_text=True)
    resp = client.post("/results/policy/new", data={"csrf_token": token, "title": "t", "owner_id": "nobody"}, headers=ZH)
    assert resp.status_code == 400 and "请选择一个在职用户。" in resp.get_data(as_text=True)


def test_suggest_from_a_finding(client, auth, world):
    f1 = world["findings"][0]
    auth.login("sup1")
    detail = client.get(f"/findings/{f1.id}", headers=EN).get_data(as_text=True)
    assert "Suggest a policy change" in detail
    url = f"/results/policy/new?source_type=finding&source_id={f1.id}"
    form = client.get(url).get_data(as_text=True)
    assert "一部的问题" in form and f'value="{f1.id}"' in form
    resp = client.post("/results/policy/new", data={"csrf_token": csrf_from(form), "title": "防止再发",
                                                    "source_type": "finding", "source_id": f1.id})
    assert resp.status_code == 302
    db.session.rollback()
    s = db.session.scalar(select(PolicySuggestion))
    assert (s.source_type, s.source_id, s.author_id) == ("finding", f1.id, world["users"]["sup1"].id)
    page = client.get(resp.location).get_data(as_text=True)
    assert f"/findings/{f1.id}" in page  # the link back to the source
    auth.logout()
    auth.login("sup2")
    assert client.get(url).status_code == 404  # someone else's finding: as if it did not exist
    auth.logout()
    auth.login("head1")
    assert "Suggest a policy change" not in client.get(f"/findings/{f1.id}", headers=EN).get_data(as_text=True)


def test_turn_an_evaluation_into_a_suggestion(client, auth, world):
    from webapp.results.models import Evaluation

    e = Evaluation(visit_id=world["visits"][0].id, author_id=world["users"]["sup1"].id, suggestions="增加弹性排班")
    db.session.add(e)
    db.session.commit()
    auth.login("manager")
    form = client.get(f"/results/policy/new?source_type=evaluation&source_id={e.id}").get_data(as_text=True)
    assert "增加弹性排班" in form and 'name="source_type" value="evaluation"' in form


def test_suggest_from_a_warning_links_both_ways(client, auth, world):
    from webapp.results.models import Warning as EarlyWarning

    w = EarlyWarning(kind="overdue_rectifications", subject_type="department", subject_id=world["depts"][0].id,
                     message="逾期整改 3 项", params={"count": 3, "threshold": 3, "department": "一部"})
    db.session.add(w)
    db.session.commit()
    auth.login("manager")
    warnings_page = client.get("/results/warnings/").get_data(as_text=True)
    url = f"/results/policy/new?source_type=warning&source_id={w.id}"
    assert url.replace("&", "&amp;") in warnings_page
    form = client.get(url).get_data(as_text=True)
    resp = client.post("/results/policy/new", data={"csrf_token": csrf_from(form), "title": "整改期限分级",
                                                    "source_type": "warning", "source_id": w.id})
    assert resp.status_code == 302
    page = client.get(resp.location).get_data(as_text=True)
    assert f"/results/warnings/?status=open#w-{w.id}" in page  # the link back to the warning
