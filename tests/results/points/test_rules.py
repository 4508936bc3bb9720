"""Points rules: an administrator lists, creates, edits and deactivates them; validation in both
languages; the page says the ledger is history."""

import pytest
from sqlalchemy import select

from tests.review_helpers import post
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.results.models import PointRule

GOOD = {"code": "ded-crit", "name": "重大问题扣分", "trigger": "finding_severity", "severity": "critical",
        "points": "-10", "applies_to": "department", "active": "1"}


def rule(code):
    db.session.rollback()
    return db.session.scalar(select(PointRule).where(PointRule.code == code))


def test_admin_creates_edits_and_deactivates(client, auth, world):
    auth.login("admin")
    page = client.get("/results/points/rules/").get_data(as_text=True)
    assert "the ledger is history" in page or "台账是历史记录" in page
    assert post(client, "/results/points/rules/new", GOOD).status_code == 303
    r = rule("DED-CRIT")  # codes are kept upper-case
    assert (r.trigger, r.severity, r.points, r.applies_to, r.active) == ("finding_severity", "critical", -10, "department", True)
    edit = {**GOOD, "code": "DED-CRIT", "trigger": "overdue", "points": "-2.5", "applies_to": "person"}
    assert post(client, f"/results/points/rules/{r.id}", edit).status_code == 303
    r = rule("DED-CRIT")
    assert (r.trigger, r.severity, r.points, r.applies_to) == ("overdue", None, -2.5, "person")  # severity dropped
    assert post(client, f"/results/points/rules/{r.id}/active", {"active": "0"}).status_code == 303
    assert rule("DED-CRIT").active is False
    listing = client.get("/results/points/rules/").get_data(as_text=True)
    assert "DED-CRIT" in listing
    assert post(client, f"/results/points/rules/{r.id}/active", {"active": "1"}).status_code == 303
    assert rule("DED-CRIT").active is True
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "point_rule")
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["point_rule.create", "point_rule.update", "point_rule.deactivate", "point_rule.activate"]


@pytest.mark.parametrize("change, field, en, zh", [
    ({"code": ""}, "code", "This field is required.", "此项为必填项。"),
    ({"code": "坏 code"}, "code", "Use letters, digits, - and _ only.", "只能使用字母、数字、- 和 _。"),
    ({"name": "x" * 121}, "name", "This text is too long.", None),
    ({"trigger": "bogus"}, "trigger", "Choose one of the offered options.", "请从给出的选项中选择。"),
    ({"severity": ""}, "severity", "Choose the severity this rule applies to.", "请选择该规则适用的严重程度。"),
    ({"points": "abc"}, "points", "Enter a number.", None),
    ({"points": "0"}, "points", "Points must not be zero: positive is a bonus, negative a deduction.",
     "分值不能为零：正数为加分，负数为扣分。"),
    ({"points": "5000"}, "points", "This number is out of range.", None),
    ({"points": "nan"}, "points", "Enter a number.", None),
    ({"applies_to": "team"}, "applies_to", "Choose one of the offered options.", None),
])
def test_bad_rules_are_refused_with_a_clear_error(client, auth, world, change, field, en, zh):
    auth.login("admin")
    for lang, text in (("en", en), ("zh-CN", zh)):
        resp = post(client, "/results/points/rules/new", {**GOOD, **change}, headers={"Accept-Language": lang})
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400
        assert f'id="{field}-error"' in html
        if text:
            assert text in html
        assert 'value="重大问题扣分"' in html or field == "name"  # what was typed is kept
    assert rule("DED-CRIT") is None


def test_duplicate_code(client, auth, world):
    db.session.add(PointRule(code="DED-CRIT", name="旧", trigger="overdue", points=-1))
    db.session.commit()
    auth.login("admin")
    resp = post(client, "/results/points/rules/new", GOOD, headers={"Accept-Language": "en"})
    assert resp.status_code == 400 and "A rule with this code already exists." in resp.get_data(as_text=True)


# role → (list, new form, create, toggle)
ROLES = {
    "admin": (200, 200, 303, 303),
    "manager": (200, 403, 403, 403),
    "head1": (403, 403, 403, 403),
    "sup1": (403, 403, 403, 403),
    "staff1": (403, 403, 403, 403),
}


@pytest.mark.parametrize("who", ROLES)
def test_rules_by_role(client, auth, world, who):
    existing = PointRule(code="X", name="x", trigger="overdue", points=-1)
    db.session.add(existing)
    db.session.commit()
    auth.login(who)
    got = (client.get("/results/points/rules/").status_code, client.get("/results/points/rules/new").status_code,
           post(client, "/results/points/rules/new", GOOD).status_code,
           post(client, f"/results/points/rules/{existing.id}/active", {"active": "0"}).status_code)
    assert got == ROLES[who]


def test_unknown_rule_is_404(client, auth, world):
    auth.login("admin")
    assert client.get("/results/points/rules/nope").status_code == 404


def test_rules_list_htmx(client, auth, world):
    auth.login("manager")
    frag = client.get("/results/points/rules/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in frag and "<table" in frag


def test_every_bad_field_is_reported_at_once(client, auth, world):
    auth.login("admin")
    html = post(client, "/results/points/rules/new", {**GOOD, "code": "BAD CODE", "points": "0", "severity": ""},
                headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert all(f'id="{f}-error"' in html for f in ("code", "points", "severity"))
