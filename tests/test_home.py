import pytest


@pytest.mark.parametrize("who", ["admin", "manager", "sup1", "head1", "staff1"])
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_role_has_a_home(client, auth, world, who, lang):
    auth.login(who)
    r = client.get("/", headers={"Accept-Language": lang})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert ("工作台" if lang == "zh-CN" else "Home") in page
    assert 'class="bottomnav"' in page and 'class="sidebar"' in page


def test_supervisor_home_lists_own_visits_only(client, auth, world):
    auth.login("sup1")
    page = client.get("/").get_data(as_text=True)
    v1, v2 = world["visits"]
    assert f"/visits/{v1.id}" in page and f"/visits/{v2.id}" not in page


def test_every_control_is_labelled(client, auth, world):
    """Inputs have labels; nav icons are decorative; buttons have text."""
    import re

    page = client.get("/login").get_data(as_text=True)
    for m in re.finditer(r'<input([^>]*)>', page):
        attrs = m.group(1)
        if 'type="hidden"' in attrs:
            continue
        ident = re.search(r'id="([^"]+)"', attrs)
        assert ident and f'for="{ident.group(1)}"' in page, attrs
    auth.login("manager")
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"<button[^>]*>\s*</button>", page) is None


def test_overdue_visits_are_listed_apart_from_upcoming_ones(client, auth, world):
    from datetime import date, timedelta

    from webapp.extensions import db

    late, coming = world["visits"]
    late.scheduled_for = date.today() - timedelta(days=7)
    coming.scheduled_for = date.today() + timedelta(days=2)
    db.session.commit()
    auth.login("manager")
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    overdue, upcoming = page.split("Upcoming visits")
    assert "Overdue visits" in overdue and f"/visits/{late.id}" in overdue and f"/visits/{coming.id}" not in overdue
    assert f"/visits/{coming.id}" in upcoming and f"/visits/{late.id}" not in upcoming
    late.due_by = date.today()  # a visit may run until its due day: not overdue yet
    db.session.commit()
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Overdue visits" not in page and f"/visits/{late.id}" in page
    late.scheduled_for = late.due_by = None  # no day at all: open, never overdue, listed with the upcoming
    db.session.commit()
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Overdue visits" not in page and f"/visits/{late.id}" in page.split("Upcoming visits")[1]


def test_phones_reach_every_page_through_more(client, auth, world):
    import re

    auth.login("manager")
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    bar = page.split('class="bottomnav"')[1].split("</nav>")[0]
    links = re.findall(r'<a href="([^"]+)"', bar)
    assert len(links) == 5 and links[-1] == "/more" and "/results/" not in links
    more = client.get("/more", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    listed = more.split('class="rowlist navlist"')[1].split("</ul>")[0]
    for href in ("/", "/results/", "/results/warnings/", "/conflicts/", "/results/policy/"):
        assert f'<a href="{href}">' in listed
    assert "全部功能" in more
    # A page reached through "More" marks "More" as where you are.
    dash = client.get("/results/").get_data(as_text=True).split('class="bottomnav"')[1].split("</nav>")[0]
    assert re.search(r'<a href="/more" aria-current="page"', dash)


def test_a_short_navigation_needs_no_more(client, auth, world):
    auth.login("staff1")
    bar = client.get("/").get_data(as_text=True).split('class="bottomnav"')[1].split("</nav>")[0]
    assert "/more" not in bar


def test_rejected_and_merged_findings_are_not_open_problems_on_the_home(client, auth, world, create_finding):
    """A finding management rejected, or merged into another, no longer stands as an open problem."""
    import re

    from webapp.extensions import db
    from webapp.findings import review

    v1, _v2 = world["visits"]
    doubled = create_finding(v1, "重复记录的问题", review_status="pending")
    wrong = create_finding(v1, "不是问题", review_status="pending")
    db.session.commit()

    def open_count():
        page = client.get("/").get_data(as_text=True)
        return int(re.search(r"<strong>(\d+)</strong><span>(?:Open findings|待处理问题)", page).group(1)), page

    auth.login("manager")
    before, page = open_count()
    assert "不是问题" in page
    manager = world["users"]["manager"]
    review.reject_finding(db.session.get(type(wrong), wrong.id), manager, "现场核实不属于问题")
    review.merge_findings(db.session.get(type(doubled), doubled.id), db.session.get(type(doubled), world["findings"][0].id),
                          manager, None)
    db.session.commit()
    after, page = open_count()
    assert after == before - 2
    assert "不是问题" not in page and "重复记录的问题" not in page
