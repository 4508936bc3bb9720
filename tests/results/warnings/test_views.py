"""Warnings pages: role × URL table (incl. guessing), tabs full/htmx, acknowledge/close, check now,
rules editing with bad input (defaults, window and grace), the nav badge, the CLI. Snooze:
test_snooze.py."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.review_helpers import post
from webapp.extensions import db
from webapp.models import Warning, WarningRule

HX = {"HX-Request": "true"}
EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def data(world, create_finding):
    rule = WarningRule(kind="high_severity_open", threshold=7, active=True, params={})
    db.session.add(rule)
    f = create_finding(world["visits"][0], "高风险问题", severity="high",
                       captured_at=datetime.now(UTC) - timedelta(days=20))
    db.session.commit()
    from webapp.results.warnings.operations import check_warnings

    check_warnings()
    db.session.commit()
    w = db.session.scalar(select(Warning))
    return {"rule": rule.id, "warning": w.id, "finding": f.id}


ROLES = ("admin", "manager", "head1", "sup1", "staff1")
TABLE = [
    ("/results/warnings/", (200, 200, 403, 403, 403)),
    ("/results/warnings/?status=closed", (200, 200, 403, 403, 403)),
    ("/results/warnings/?status=snoozed", (200, 200, 403, 403, 403)),
    ("/results/warnings/rules", (200, 200, 403, 403, 403)),
]


@pytest.mark.parametrize("who", ROLES)
def test_role_url_table(client, auth, data, who):
    auth.login(who)
    for url, expected in TABLE:
        assert client.get(url).status_code == expected[ROLES.index(who)], (who, url)
    status = 303 if who in ("admin", "manager") else 403
    assert post(client, "/results/warnings/check").status_code == status
    for action in ("acknowledge", "close"):
        assert post(client, f"/results/warnings/{data['warning']}/{action}").status_code in (
            (303,) if who in ("admin", "manager") else (403,)), (who, action)
    assert post(client, "/results/warnings/no-such-id/close").status_code == (
        404 if who in ("admin", "manager") else 403)
    rule_status = {"admin": 303, "manager": 403}.get(who, 403)
    assert post(client, f"/results/warnings/rules/{data['rule']}", {"threshold": "5", "active": "true"}).status_code \
        == rule_status


def test_list_full_page_and_htmx_tabs(client, auth, data):
    auth.login("manager")
    full = client.get("/results/warnings/", headers=EN)
    page = full.get_data(as_text=True)
    assert "<html" in page and "High-severity finding “高风险问题” (High) has been open for" in page
    assert f'/findings/{data["finding"]}' in page
    assert 'class="nav-count"' in page  # the badge next to the nav entry
    frag = client.get("/results/warnings/?status=acknowledged", headers={**HX, **ZH})
    body = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in body and "这里没有预警。" in body
    assert "HX-Request" in frag.headers["Vary"]
    assert client.get("/results/warnings/?status=bogus").status_code == 200  # a bad tab falls back to open


def test_acknowledge_then_close_with_who_and_when(client, auth, data, world):
    auth.login("manager")
    resp = post(client, f"/results/warnings/{data['warning']}/acknowledge", {"tab": "open"}, headers={**HX, **EN})
    assert resp.status_code == 200 and "<html" not in resp.get_data(as_text=True)
    assert "The warning was acknowledged." in resp.get_data(as_text=True)
    page = client.get("/results/warnings/?status=acknowledged", headers=EN).get_data(as_text=True)
    assert "Acknowledged by manager" in page
    resp = post(client, f"/results/warnings/{data['warning']}/close", {"tab": "acknowledged"})
    assert resp.status_code == 303 and resp.location.endswith("status=acknowledged")
    db.session.rollback()
    w = db.session.get(Warning, data["warning"])
    assert (w.status, w.acknowledged_by, w.closed_by) == ("closed", world["users"]["manager"].id,
                                                          world["users"]["manager"].id)
    again = post(client, f"/results/warnings/{data['warning']}/close", {"tab": "closed"}, headers={**HX, **EN})
    assert again.status_code == 409 and "This warning is already closed." in again.get_data(as_text=True)


def test_check_now_is_idempotent(client, auth, data):
    auth.login("manager")
    resp = post(client, "/results/warnings/check", headers=EN)
    assert resp.status_code == 303
    page = client.get(resp.location, headers=EN).get_data(as_text=True)
    assert "Check done: 0 new warnings, 0 with new occurrences, 0 closed automatically." in page
    db.session.rollback()
    assert len(db.session.scalars(select(Warning)).all()) == 1


@pytest.mark.parametrize(("form", "message"), [
    ({"threshold": "abc"}, "Enter a number."),
    ({"threshold": ""}, "This field is required."),
    ({"threshold": "-1"}, "This number is out of range."),
])
def test_rule_bad_input(client, auth, data, form, message):
    auth.login("admin")
    resp = post(client, f"/results/warnings/rules/{data['rule']}", form, headers=EN)
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(WarningRule, data["rule"]).threshold == 7


def test_rule_count_kind_needs_whole_number(client, auth, world):
    rule = WarningRule(kind="repeat_problem", threshold=2, active=True, params={})
    db.session.add(rule)
    db.session.commit()
    auth.login("admin")
    resp = post(client, f"/results/warnings/rules/{rule.id}", {"threshold": "1.5", "active": "true"}, headers=ZH)
    assert resp.status_code == 400 and "请输入不小于 1 的整数。" in resp.get_data(as_text=True)
    resp = post(client, f"/results/warnings/rules/{rule.id}", {"threshold": "3"})
    assert resp.status_code == 303
    db.session.rollback()
    got = db.session.get(WarningRule, rule.id)
    assert (got.threshold, got.active) == (3, False)  # unticked box = inactive


def test_cli_check(runner, data):
    result = runner.invoke(args=["warnings", "check"])
    assert result.exit_code == 0, result.output
    assert "0 new, 0 with new occurrences, 0 closed automatically, 0 back from snooze, 1 open or acknowledged" in result.output


def test_list_shows_the_group_count_and_last_seen(client, auth, data):
    auth.login("manager")
    page = client.get("/results/warnings/", headers=EN).get_data(as_text=True)
    assert "1 occurrence" in page and "last seen 2026-10-31" in page  # captured 20 days before the pinned day
    assert client.get(f"/results/warnings/{data['warning']}", headers=EN).status_code == 200


def test_rules_page_offers_defaults_and_saves_a_kind_that_has_none(client, auth, data):
    auth.login("admin")
    page = client.get("/results/warnings/rules", headers=EN).get_data(as_text=True)
    assert page.count("Default rule (not changed yet).") == 3  # only high_severity_open is stored here
    assert "Default: 60" in page and "Default: 90" in page and "Default: 14" in page
    resp = post(client, "/results/warnings/rules/repeat_problem", {"threshold": "4", "setting": "120", "active": "true"})
    assert resp.status_code == 303
    db.session.rollback()
    rule = db.session.scalar(select(WarningRule).where(WarningRule.kind == "repeat_problem"))
    assert (rule.threshold, rule.params, rule.active) == (4, {"window_days": 120}, True)


@pytest.mark.parametrize(("kind", "form", "message"), [
    ("repeat_problem", {"threshold": "3", "setting": "400"}, "Enter a whole number of days from 7 to 365."),
    ("repeat_problem", {"threshold": "3", "setting": "3"}, "Enter a whole number of days from 7 to 365."),
    ("overdue_rectifications", {"threshold": "3", "setting": "91"}, "Enter a whole number of days from 0 to 90."),
    ("overdue_rectifications", {"threshold": "3", "setting": "1.5"}, "Enter a whole number."),
    ("overdue_rectifications", {"threshold": "0", "setting": "7"}, "Enter a whole number of at least 1."),
])
def test_rule_settings_are_validated(client, auth, data, kind, form, message):
    auth.login("admin")
    resp = post(client, f"/results/warnings/rules/{kind}", form, headers=EN)
    assert resp.status_code == 400 and message in resp.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(WarningRule).where(WarningRule.kind == kind)) is None


def test_rule_setting_error_in_chinese(client, auth, data):
    auth.login("admin")
    resp = post(client, "/results/warnings/rules/overdue_rectifications", {"threshold": "3", "setting": "91"},
                headers=ZH)
    assert resp.status_code == 400 and "请输入 0 至 90 之间的整数天数。" in resp.get_data(as_text=True)


def test_only_an_admin_saves_a_default_rule(client, auth, data):
    auth.login("manager")
    assert post(client, "/results/warnings/rules/repeat_problem", {"threshold": "4"}).status_code == 403
    # a rule that does not exist: 404 for whoever may see rules (docs/security.md)
    assert post(client, "/results/warnings/rules/no_such_kind", {"threshold": "4"}).status_code == 404
    auth.logout()
    auth.login("admin")
    assert post(client, "/results/warnings/rules/no_such_kind", {"threshold": "4"}).status_code == 404
