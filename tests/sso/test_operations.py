"""Mapping rules of webapp/sso/operations.py without HTTP."""

import pytest

from webapp.auth.models import UserIdentity
from webapp.extensions import db
from webapp.sso.operations import find_user, normalize_mobile, sign_in_with_profile, unknown_user_policy
from webapp.sso.providers import Profile


@pytest.mark.parametrize("raw,expected", [
    ("13800138000", "13800138000"), ("+86 138 0013 8000", "13800138000"), ("+86-138-0013-8000", "13800138000"),
    ("0086 13800138000", "13800138000"), ("8613800138000", "13800138000"), ("(138) 0013.8000", "13800138000"),
    ("138\u30000013\u00a08000", "13800138000"), ("+852 9123 4567", "+85291234567"),
    ("", None), (None, None), ("not a number", None), ("=1+1", None), ("1" * 30, None), (13800138000, None),
])
def test_normalize_mobile(raw, expected):
    assert normalize_mobile(raw) == expected


def test_identity_wins_over_email_and_mobile(app, create_user):
    linked = create_user("linked")
    create_user("by-email", email="x@example.com", mobile="13900000000")
    db.session.add(UserIdentity(user_id=linked.id, provider="oidc", subject="s1"))
    db.session.commit()
    user, identity, how = find_user("oidc", Profile(subject="s1", email="x@example.com", mobile="13900000000"))
    assert (user.id, how) == (linked.id, "identity") and identity is not None


def test_an_identity_of_another_provider_does_not_count(app, create_user):
    other = create_user("other")
    db.session.add(UserIdentity(user_id=other.id, provider="wecom", subject="s1"))
    db.session.commit()
    assert find_user("feishu", Profile(subject="s1")) == (None, None, "none")


def test_stored_policy_outside_the_choices_means_refuse(app):
    from webapp.core.settings import set_setting

    set_setting("sso_unknown_users", "create_active")
    assert unknown_user_policy() == "refuse"
    assert sign_in_with_profile("wecom", Profile(subject="nobody"), None).status == "unknown"
