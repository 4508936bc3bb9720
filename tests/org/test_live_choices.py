"""webapp/org/operations.live_choices: a worker's copy of the live departments and sites, read again
whenever the table changed (added, renamed, deleted), and the <option>s and labels built from it."""

from datetime import UTC, datetime

from tests.conftest import PINNED_NOW
from webapp.extensions import db
from webapp.org import operations as ops
from webapp.org.models import Site


def _names(choices):
    return [c.name for c in choices]


def test_the_copy_follows_every_change(app, create_department, create_site):
    with app.app_context():
        dept = create_department("D1", "一部")
        a = create_site(dept, "S1", "一店").id
        first = ops.live_choices(Site)
        assert _names(first) == ["一店"]
        assert ops.live_choices(Site) is first  # unchanged: the same copy, not read again
        b = create_site(dept, "S2", "二店").id
        assert _names(ops.live_choices(Site)) == ["一店", "二店"]  # added
        db.session.get(Site, a).name = "一店（新）"
        db.session.commit()
        assert _names(ops.live_choices(Site)) == ["一店（新）", "二店"]  # renamed
        db.session.get(Site, b).deleted_at = datetime.now(UTC)
        db.session.commit()
        assert _names(ops.live_choices(Site)) == ["一店（新）"]  # deleted


def test_another_company_of_the_same_shape_is_read_anew(app, create_department, create_site, pinned_clock):
    """Tables emptied and refilled at the same instant with as many rows: still read again."""
    pinned_clock.move_to(PINNED_NOW, tick=False)
    with app.app_context():
        dept = create_department("D1", "一部")
        create_site(dept, "S1", "一店")
        assert _names(ops.live_choices(Site)) == ["一店"]
        db.session.query(Site).delete()
        db.session.commit()
        create_site(dept, "S1", "别的店")
        assert _names(ops.live_choices(Site)) == ["别的店"]


def test_options_mark_the_chosen_one_and_escape(app, create_department, create_site):
    from webapp.org.views import choice_options

    with app.test_request_context():
        dept = create_department("D1", "一部")
        s1 = create_site(dept, "S1", "<b>一店</b>").id
        s2 = create_site(dept, "S2", "二店").id
        choices = ops.live_choices(Site)
        plain = str(choice_options(choices))
        assert "selected" not in plain and "&lt;b&gt;一店&lt;/b&gt;" in plain and "<b>" not in plain
        chosen = str(choice_options(choices, s2))
        assert f'<option value="{s2}" selected>二店</option>' in chosen and chosen.count("selected") == 1
        assert str(choice_options(choices, s1)).count("selected") == 1
        assert str(choice_options(choices, '"><script>')).count("selected") == 0  # not an id: nothing chosen
        assert str(choice_options(choices)) == plain  # the chosen one was marked on a copy
        assert ops.choice_labels(choices, "zh_Hans_CN") == {s1: "<b>一店</b>", s2: "二店"}
