"""Repeat problems: same site, same checklist item, another visit, within a year."""

from datetime import UTC, datetime, timedelta

from webapp.extensions import db
from webapp.findings.models import Finding


def _setup(create_department, create_site, create_user, create_visit, create_template):
    dept = create_department()
    site = create_site(dept)
    sup = create_user("sup", "supervisor")
    tpl = create_template()
    return site, sup, tpl, tpl.items[0]


def test_second_visit_same_item_is_a_repeat(create_department, create_site, create_user, create_visit,
                                             create_template, create_finding):
    site, sup, tpl, item = _setup(create_department, create_site, create_user, create_visit, create_template)
    v1, v2 = create_visit(site, sup, template=tpl), create_visit(site, sup, template=tpl)
    t0 = datetime(2026, 6, 1, 2, tzinfo=UTC)
    first = create_finding(v1, item_id=item.id, captured_at=t0)
    same_visit = create_finding(v1, item_id=item.id, captured_at=t0 + timedelta(hours=1))
    other_item = create_finding(v2, item_id=tpl.items[1].id, captured_at=t0 + timedelta(days=30))
    again = create_finding(v2, item_id=item.id, captured_at=t0 + timedelta(days=30))
    assert first.repeat_of_id is None
    assert same_visit.repeat_of_id is None  # found twice on one visit is not a recurrence
    assert other_item.repeat_of_id is None
    assert again.repeat_of_id == same_visit.id  # the most recent earlier one


def test_outside_the_window_or_other_site_is_not_a_repeat(create_department, create_site, create_user,
                                                         create_visit, create_template, create_finding):
    site, sup, tpl, item = _setup(create_department, create_site, create_user, create_visit, create_template)
    other_site = create_site(site.department, code="S2")
    v1, v2, v3 = (create_visit(site, sup, template=tpl), create_visit(site, sup, template=tpl),
                  create_visit(other_site, sup, template=tpl))
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    create_finding(v1, item_id=item.id, captured_at=t0)
    late = create_finding(v2, item_id=item.id, captured_at=t0 + timedelta(days=400))
    elsewhere = create_finding(v3, item_id=item.id, captured_at=t0 + timedelta(days=10))
    assert late.repeat_of_id is None and elsewhere.repeat_of_id is None


def test_late_arrival_becomes_the_predecessor(create_department, create_site, create_user, create_visit,
                                              create_template, create_finding):
    """A phone syncs days later a finding captured before one already stored."""
    site, sup, tpl, item = _setup(create_department, create_site, create_user, create_visit, create_template)
    v1, v2 = create_visit(site, sup, template=tpl), create_visit(site, sup, template=tpl)
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    stored = create_finding(v2, item_id=item.id, captured_at=t0 + timedelta(days=20))
    early = create_finding(v1, item_id=item.id, captured_at=t0)
    db.session.expire_all()
    assert db.session.get(Finding, stored.id).repeat_of_id == early.id
    assert db.session.get(Finding, early.id).repeat_of_id is None


def test_deleted_findings_do_not_count(create_department, create_site, create_user, create_visit,
                                       create_template, create_finding):
    site, sup, tpl, item = _setup(create_department, create_site, create_user, create_visit, create_template)
    v1, v2 = create_visit(site, sup, template=tpl), create_visit(site, sup, template=tpl)
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    gone = create_finding(v1, item_id=item.id, captured_at=t0)
    gone.deleted_at = datetime.now(UTC)
    db.session.commit()
    assert create_finding(v2, item_id=item.id, captured_at=t0 + timedelta(days=3)).repeat_of_id is None
