"""Who may see what — through the scope helper and by guessing URLs."""

import pytest

from webapp.authz import can_see, scoped
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.visits.models import Meeting, Visit

# role → (sees visit 1, sees visit 2, sees finding 1, sees finding 2)
EXPECTED = {
    "admin": (True, True, True, True),
    "manager": (True, True, True, True),
    "sup1": (True, False, True, False),
    "sup2": (False, True, False, True),
    "head1": (True, False, True, False),
    "head2": (False, True, False, True),
    "staff1": (True, False, True, False),
}


@pytest.mark.parametrize("who", EXPECTED)
def test_scope_helper(world, who):
    user = world["users"][who]
    v1, v2 = world["visits"]
    f1, f2 = world["findings"]
    got = (can_see(Visit, v1.id, user), can_see(Visit, v2.id, user),
           can_see(Finding, f1.id, user), can_see(Finding, f2.id, user))
    assert got == EXPECTED[who]
    listed = set(db.session.scalars(scoped(Finding, user)).all())
    assert listed == {f for f, ok in zip((f1, f2), got[2:], strict=True) if ok}


@pytest.mark.parametrize("who", EXPECTED)
def test_url_guessing_gets_404(client, auth, world, who):
    auth.login(who)
    v1, v2 = world["visits"]
    f1, f2 = world["findings"]
    expect = EXPECTED[who]
    for ok, url in zip(expect, (f"/visits/{v1.id}", f"/visits/{v2.id}", f"/findings/{f1.id}", f"/findings/{f2.id}"),
                       strict=True):
        assert client.get(url).status_code == (200 if ok else 404), url


@pytest.mark.parametrize("who", EXPECTED)
def test_lists_show_only_scope(client, auth, world, who):
    auth.login(who)
    page = client.get("/findings/").get_data(as_text=True)
    f1, f2 = world["findings"]
    assert (f1.title in page, f2.title in page) == EXPECTED[who][2:]


def test_staff_sees_only_items_naming_them(world, create_finding):
    f_other = create_finding(world["visits"][0], "别人的问题", responsible_person="别人")
    staff = world["users"]["staff1"]
    assert can_see(Finding, world["findings"][0].id, staff)
    assert not can_see(Finding, f_other.id, staff)


def test_parts_of_a_visit_follow_the_visit(world):
    v1, v2 = world["visits"]
    m = Meeting(visit_id=v2.id, attendees=[])
    db.session.add(m)
    db.session.commit()
    assert can_see(Meeting, m.id, world["users"]["sup2"])
    assert not can_see(Meeting, m.id, world["users"]["sup1"])
    assert not can_see(Meeting, m.id, world["users"]["head1"])
    assert can_see(Meeting, m.id, world["users"]["manager"])


def test_anonymous_sees_nothing(world):
    from flask_login import AnonymousUserMixin

    assert not can_see(Visit, world["visits"][0].id, AnonymousUserMixin())


def test_a_kind_of_record_it_does_not_know_is_visible_to_nobody(world):
    """Fail closed: a model with no rule (here the audit log, and the bookkeeping of the sync store)
    is invisible even to management; reference data is visible to every signed-in user."""
    from webapp.authz import scope_clause
    from webapp.models import AuditEntry, Department, Revision

    for who in ("manager", "admin", "sup1", "head1", "staff1"):
        user = world["users"][who]
        for model in (AuditEntry, Revision):
            assert db.session.scalars(scoped(model, user)).first() is None, (who, model)
        assert str(scope_clause(Department, user)) == "true", who


def test_an_action_it_does_not_know_is_refused(world):
    from webapp.authz import can

    manager, sup1 = world["users"]["manager"], world["users"]["sup1"]
    assert can(manager, "visit.reassign") and not can(manager, "visit.demolish")
    assert not can(sup1, "visit.reassign")
    assert can(sup1, "visit.record", world["visits"][0]) and not can(sup1, "visit.record", world["visits"][1])
    assert not can(world["users"]["staff1"], "device.push")


def test_a_user_with_an_unknown_role_sees_nothing(world):
    ghost = world["users"]["manager"]
    ghost.role = "auditor"  # not a role of the rulebook (never committed)
    assert not can_see(Visit, world["visits"][0].id, ghost)
    db.session.rollback()
