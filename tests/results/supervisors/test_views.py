"""Pages: who may open what (role × URL), htmx fragments, profile edits and visit ratings."""

import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.results.models import SupervisorProfile, VisitRating

Q4 = "2026-Q4"


def _urls(w):
    sup1, sup2 = w["users"]["sup1"], w["users"]["sup2"]
    v1, v2 = w["visits"]
    return {
        "index": f"/results/supervisors/?period={Q4}",
        "sup1": f"/results/supervisors/{sup1.id}?period={Q4}",
        "sup2": f"/results/supervisors/{sup2.id}?period={Q4}",
        "edit1": f"/results/supervisors/{sup1.id}/profile",
        "rate1": f"/results/supervisors/visits/{v1.id}/rating",
        "rate2": f"/results/supervisors/visits/{v2.id}/rating",
        "not_a_supervisor": f"/results/supervisors/{w['users']['head1'].id}",
        "unknown": f"/results/supervisors/{uuid.uuid4()}",
        "unknown_visit": f"/results/supervisors/visits/{uuid.uuid4()}/rating",
    }


# Expected status per role and URL (302: a supervisor's list goes to their own page).
TABLE = {
    "admin":   {"index": 200, "sup1": 200, "sup2": 200, "edit1": 200, "rate1": 403, "rate2": 403},
    "manager": {"index": 200, "sup1": 200, "sup2": 200, "edit1": 200, "rate1": 403, "rate2": 403},
    "sup1":    {"index": 302, "sup1": 200, "sup2": 404, "edit1": 403, "rate1": 403, "rate2": 404},
    "head1":   {"index": 403, "sup1": 404, "sup2": 404, "edit1": 404, "rate1": 200, "rate2": 404},
    "staff1":  {"index": 403, "sup1": 404, "sup2": 404, "edit1": 404, "rate1": 403, "rate2": 404},
}


@pytest.mark.parametrize("role", list(TABLE))
def test_role_by_url(client, auth, sup_world, role):
    urls = _urls(sup_world)
    auth.login(role)
    for name, status in TABLE[role].items():
        assert client.get(urls[name]).status_code == status, (role, name)
    for name in ("not_a_supervisor", "unknown", "unknown_visit"):
        assert client.get(urls[name]).status_code == 404, (role, name)


@pytest.mark.parametrize("role", ["sup1", "head1", "staff1"])
def test_only_managers_post_profiles(client, auth, sup_world, role):
    auth.login(role)
    url = _urls(sup_world)["edit1"]
    r = client.post(url, data={"csrf_token": auth.csrf(), "selection_source": "external"})
    assert r.status_code in (403, 404)
    assert db.session.scalar(select(SupervisorProfile.selection_source)) == "internal"


def test_supervisor_list_redirects_a_supervisor_to_their_own_page(client, auth, sup_world):
    auth.login("sup1")
    r = client.get(f"/results/supervisors/?period={Q4}")
    assert r.headers["Location"].endswith(f"/results/supervisors/{sup_world['users']['sup1'].id}?period={Q4}")


def test_list_shows_ranking_and_fragment_for_htmx(client, auth, sup_world):
    auth.login("manager")
    full = client.get(f"/results/supervisors/?period={Q4}")
    html = full.get_data(as_text=True)
    assert "<html" in html and 'id="ranking"' in html and "sup1" in html and "sup2" in html
    assert "注册内部审计师" not in html  # the list shows source/experience, not the full profile
    part = client.get(f"/results/supervisors/?period={Q4}", headers={"HX-Request": "true"})
    body = part.get_data(as_text=True)
    assert part.status_code == 200 and "<html" not in body and body.lstrip().startswith('<section id="ranking"')
    assert "HX-Request" in part.headers["Vary"]


def test_the_rankings_labels_and_arrows_speak_the_users_language(client, auth, sup_world):
    """Labels and what each arrow tells a screen reader are asked once a page (132 rows a chain), in
    the page's language."""
    import re

    auth.login("manager")
    said = {}
    for lang in ("en", "zh-CN"):
        html = client.get(f"/results/supervisors/?period={Q4}", headers={"Accept-Language": lang}).get_data(as_text=True)
        rows = html.split("<tbody>", 1)[1]
        said[lang] = (set(re.findall(r'<span class="trend trend-\w+"[^>]*><span aria-hidden="true">.</span><span class="sr-only">([^<]+)</span>', rows)),
                      re.findall(r'data-label="([^"]+)"', rows))
    arrows, labels = said["en"]
    assert arrows and arrows <= {"better than the previous period", "worse than the previous period",
                                 "same as the previous period", "changed since the previous period"}
    assert labels[:3] == ["Rank", "Supervisor", "Selection source"] and "Overall score" in labels
    zh_arrows, zh_labels = said["zh-CN"]
    assert zh_arrows and all(re.search(r"[\u4e00-\u9fff]", a) for a in zh_arrows)
    assert len(zh_labels) == len(labels) and all(re.search(r"[\u4e00-\u9fff]", label) for label in zh_labels)


def test_scorecard_page_full_and_fragment(client, auth, sup_world, add_rating):
    add_rating(sup_world["visits"][0], sup_world["users"]["head1"], 4, "配合积极")
    auth.login("manager")
    url = f"/results/supervisors/{sup_world['users']['sup1'].id}?period={Q4}"
    html = client.get(url).get_data(as_text=True)
    assert "<html" in html and "注册内部审计师" in html and "风险评估" in html and "年度优秀督导员" in html
    assert "配合积极" in html
    part = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in part and part.lstrip().startswith('<div id="scorecard">')
    assert 'data-figure="completion"' in part and "4.00" in part


def test_bad_period_is_a_clear_error_not_a_500(client, auth, sup_world):
    auth.login("manager")
    r = client.get("/results/supervisors/?period=2026-Q9", headers={"Accept-Language": "en"})
    assert r.status_code == 200
    assert "Enter a period such as 2026-Q4, 2026-11 or 2026." in r.get_data(as_text=True)


# ---- profiles ----------------------------------------------------------------------------------

def _profile_form(auth, **fields):
    data = {"csrf_token": auth.csrf(), "selection_source": "external", "experience_years": "6",
            "qualifications": "ISO 9001 内审员"}
    data.update(fields)
    return data


def test_manager_saves_a_profile_with_rows(client, auth, sup_world):
    auth.login("manager")
    sup2 = sup_world["users"]["sup2"]
    r = client.post(f"/results/supervisors/{sup2.id}/profile", data=_profile_form(
        auth, **{"training-0-date": "2026-01-05", "training-0-topic": "督导方法", "training-0-hours": "16",
                 "training-1-date": "", "training-1-topic": "",  # a blank row is ignored
                 "training-2-date": "2026-06-01", "training-2-topic": "数据分析", "training-2-certificate": "证书A",
                 "recognition-0-date": "2026-02-01", "recognition-0-title": "季度之星"}))
    assert r.status_code == 303
    p = db.session.scalar(select(SupervisorProfile).where(SupervisorProfile.user_id == sup2.id))
    assert p.selection_source == "external" and p.experience_years == 6
    assert p.training_records == [{"date": "2026-06-01", "topic": "数据分析", "certificate": "证书A"},
                                  {"date": "2026-01-05", "topic": "督导方法", "hours": 16.0}]
    assert p.recognitions == [{"date": "2026-02-01", "title": "季度之星"}]


@pytest.mark.parametrize("fields, message", [
    ({"experience_years": "-1"}, "Enter a number of years between 0 and 60."),
    ({"experience_years": "61"}, "Enter a number of years between 0 and 60."),
    ({"experience_years": "many"}, "Enter a whole number."),
    ({"selection_source": "agency"}, "Choose one of the offered options."),
    ({"training-0-date": "2026-01-05"}, "This field is required."),  # topic missing
    ({"training-0-topic": "督导方法", "training-0-date": "5 Jan"}, "Enter a valid date (YYYY-MM-DD)."),
    ({"training-0-topic": "督导方法", "training-0-date": "2026-01-05", "training-0-hours": "0"},
     "Enter hours between 0 and 1000."),
    ({"recognition-0-title": "季度之星"}, "This field is required."),  # date missing
])
def test_profile_errors_are_shown_and_input_kept(client, auth, sup_world, fields, message):
    auth.login("manager")
    sup1 = sup_world["users"]["sup1"]
    data = _profile_form(auth, qualifications="新的资格说明", **fields)
    r = client.post(f"/results/supervisors/{sup1.id}/profile", data=data, headers={"Accept-Language": "en"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert message in html
    assert "新的资格说明" in html  # what was typed is kept
    assert 'aria-invalid="true"' in html
    p = db.session.scalar(select(SupervisorProfile).where(SupervisorProfile.user_id == sup1.id))
    db.session.refresh(p)
    assert p.qualifications == "注册内部审计师"  # nothing saved


def test_add_row_shows_another_empty_row_and_saves_nothing(client, auth, sup_world):
    auth.login("manager")
    sup1 = sup_world["users"]["sup1"]
    page = client.get(f"/results/supervisors/{sup1.id}/profile").get_data(as_text=True)
    assert 'name="training-0-topic"' in page and 'value="风险评估"' in page and 'name="training-1-topic"' in page
    assert 'name="training-2-topic"' not in page
    r = client.post(f"/results/supervisors/{sup1.id}/profile", data=_profile_form(
        auth, add_row="training", **{"training-0-date": "2026-03-01", "training-0-topic": "风险评估"}))
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'name="training-2-topic"' in html
    p = db.session.scalar(select(SupervisorProfile).where(SupervisorProfile.user_id == sup1.id))
    db.session.refresh(p)
    assert p.selection_source == "internal"


# ---- visit ratings -----------------------------------------------------------------------------

def _rate(client, auth, visit, **fields):
    data = {"csrf_token": auth.csrf(), **fields}
    return client.post(f"/results/supervisors/visits/{visit.id}/rating", data=data,
                       headers={"Accept-Language": "en"})


def test_dept_head_rates_then_edits_once_per_visit(client, auth, sup_world):
    v1 = sup_world["visits"][0]
    auth.login("head1")
    r = _rate(client, auth, v1, score="4", comment="准备充分", teamwork_note="与门店沟通顺畅")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/visits/{v1.id}")
    r = _rate(client, auth, v1, score="2", teamwork_note="第二次评价")
    assert r.status_code == 303
    rows = db.session.scalars(select(VisitRating)).all()
    assert len(rows) == 1 and rows[0].score == 2 and rows[0].comment is None
    assert rows[0].teamwork_note == "第二次评价"
    page = client.get(f"/results/supervisors/visits/{v1.id}/rating").get_data(as_text=True)
    assert "第二次评价" in page and 'data-period="2026-Q4"' in page


@pytest.mark.parametrize("score", ["0", "6", "3.5", "great", ""])
def test_rating_must_be_one_to_five(client, auth, sup_world, score):
    auth.login("head1")
    r = _rate(client, auth, sup_world["visits"][0], score=score, comment="保留的评论")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert any(m in html for m in ("Choose a rating from 1 to 5.", "This field is required.",
                                   "Enter a whole number."))
    assert "保留的评论" in html
    assert db.session.scalar(select(func.count()).select_from(VisitRating)) == 0


def test_only_completed_visits_are_rated(client, auth, sup_world):
    v1 = sup_world["visits"][0]
    v1.status, v1.completed_at = "in_progress", None
    db.session.commit()
    auth.login("head1")
    assert "Only a completed visit can be rated." in client.get(
        f"/results/supervisors/visits/{v1.id}/rating", headers={"Accept-Language": "en"}).get_data(as_text=True)
    r = _rate(client, auth, v1, score="5")
    assert r.status_code == 400 and "Only a completed visit can be rated." in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(VisitRating)) == 0


def test_other_departments_visit_cannot_be_rated(client, auth, sup_world):
    auth.login("head1")
    assert _rate(client, auth, sup_world["visits"][1], score="5").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(VisitRating)) == 0


def test_visit_page_links_the_rating_for_its_dept_head_only(client, auth, sup_world):
    v1 = sup_world["visits"][0]
    link = f"/results/supervisors/visits/{v1.id}/rating"
    auth.login("head1")
    assert link in client.get(f"/visits/{v1.id}").get_data(as_text=True)
    auth.logout()
    auth.login("manager")
    assert link not in client.get(f"/visits/{v1.id}").get_data(as_text=True)


def test_database_refuses_a_second_rating_by_the_same_rater(app, sup_world, add_rating):
    v1, head1 = sup_world["visits"][0], sup_world["users"]["head1"]
    add_rating(v1, head1, 3)
    db.session.add(VisitRating(visit_id=v1.id, rated_by=head1.id, score=5,
                               created_at=datetime.now(UTC), updated_at=datetime.now(UTC)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_rating_changes_the_satisfaction_figure(client, auth, sup_world):
    sup1 = sup_world["users"]["sup1"]
    url = f"/results/supervisors/{sup1.id}?period={Q4}"
    auth.login("manager")
    assert "n=0" in client.get(url).get_data(as_text=True)
    auth.logout()
    auth.login("head1")
    _rate(client, auth, sup_world["visits"][0], score="3")
    auth.logout()
    auth.login("manager")
    html = client.get(url).get_data(as_text=True)
    assert "n=1" in html and "3.00" in html


def test_csrf_required_on_rating(client, auth, sup_world):
    auth.login("head1")
    r = client.post(f"/results/supervisors/visits/{sup_world['visits'][0].id}/rating", data={"score": "5"})
    assert r.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(VisitRating)) == 0


def test_a_period_without_data_shows_dashes_and_no_overall(client, auth, sup_world):
    auth.login("manager")
    html = client.get(f"/results/supervisors/{sup_world['users']['sup2'].id}?period=2025-Q1",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    values = dict(re.findall(r'<tr data-figure="(\w+)">.*?<span class="sup-value">([^<]*)</span>', html, re.S))
    assert values == {"completion": "—", "found": "0", "resolved": "0", "resolution": "—",
                      "first_round": "—", "recurrence": "—", "satisfaction": "—", "agreement": "—"}
    assert re.search(r'data-figure="overall">—<', html)
    assert html.count("left out (no data)") == 5
