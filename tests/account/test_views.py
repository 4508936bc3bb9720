"""/account/: one's own signed-in devices and API tokens, each ended from here; nobody else's."""

from sqlalchemy import select

from tests.auth.test_sessions import new_client, signed_in_client
from tests.conftest import PASSWORD, csrf_from
from webapp.account.devices import describe_device
from webapp.audit.models import AuditEntry
from webapp.auth.models import ApiToken, UserSession
from webapp.auth.operations import issue_token
from webapp.extensions import db

ANDROID_CHROME = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
IPHONE_WECOM = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                "Mobile/15E148 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh")
DESKTOP_EDGE = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0"


def browser(app, username, agent):
    c = new_client(app)
    page = c.get("/login").get_data(as_text=True)
    r = c.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_from(page)},
               headers={"User-Agent": agent})
    assert r.status_code == 302
    return c


def sessions_of(user):
    db.session.expire_all()
    return db.session.scalars(select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)).all()


def post_form(c, path, **data):
    token = csrf_from(c.get("/account/").get_data(as_text=True))
    return c.post(path, data={"csrf_token": token, **data})


def test_device_names_are_read_from_the_user_agent(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert describe_device(ANDROID_CHROME) == "Chrome on Android"
        assert describe_device(IPHONE_WECOM) == "WeCom on iPhone"
        assert describe_device(DESKTOP_EDGE) == "Edge on Windows"
        assert describe_device(None) == "Unknown browser"
        assert describe_device("curl/8.0") == "Script"


def test_the_page_lists_my_devices_and_tokens_only(app, world):
    sup1, sup2 = world["users"]["sup1"], world["users"]["sup2"]
    phone = browser(app, "sup1", ANDROID_CHROME)
    desk = browser(app, "sup1", DESKTOP_EDGE)
    browser(app, "sup2", IPHONE_WECOM)
    issue_token(sup1, "巡查平板")
    issue_token(sup2, "someone-elses-token")
    db.session.commit()
    page = desk.get("/account/", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Chrome on Android" in html and "Edge on Windows" in html
    assert "WeCom on iPhone" not in html and "someone-elses-token" not in html
    assert "巡查平板" in html
    assert html.count("This device") == 1
    assert 'href=/account/' in html or 'href="/account/"' in html  # the name in the top bar links here
    zh = phone.get("/account/").get_data(as_text=True)
    assert "已登录的设备" in zh and "本设备" in zh and "Android 上的 Chrome" in zh


def test_every_role_may_open_it(app, world):
    for name in world["users"]:
        c = signed_in_client(app, name)
        assert c.get("/account/").status_code == 200, name
    assert new_client(app).get("/account/").status_code == 302


def test_signing_out_one_device_ends_it_at_once_and_leaves_the_others(app, world):
    sup1 = world["users"]["sup1"]
    phone, desk, laptop = (browser(app, "sup1", a) for a in (ANDROID_CHROME, DESKTOP_EDGE, DESKTOP_EDGE))
    phone_row = sessions_of(sup1)[0]
    r = post_form(desk, f"/account/sessions/{phone_row.id}/revoke")
    assert r.status_code == 303
    r = phone.get("/api/v1/sync/pull")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "signed_out"
    assert desk.get("/account/").status_code == 200 and laptop.get("/account/").status_code == 200
    assert [s.ended_at is not None for s in sessions_of(sup1)] == [True, False, False]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "session.revoke")).one()
    assert entry.entity_id == sup1.id


def test_signing_out_this_device_signs_me_out(app, world):
    desk = browser(app, "sup1", DESKTOP_EDGE)
    row = sessions_of(world["users"]["sup1"])[0]
    r = post_form(desk, f"/account/sessions/{row.id}/revoke")
    assert r.status_code == 303 and "/login" in r.headers["Location"]
    assert desk.get("/account/").status_code == 302


def test_sign_out_all_other_devices(app, world):
    sup1 = world["users"]["sup1"]
    others = [browser(app, "sup1", ANDROID_CHROME) for _ in range(2)]
    desk = browser(app, "sup1", DESKTOP_EDGE)
    theirs = browser(app, "sup2", ANDROID_CHROME)
    issue_token(sup1, "tablet")
    db.session.commit()
    r = post_form(desk, "/account/sessions/revoke-others")
    assert r.status_code == 303
    assert all(o.get("/api/v1/me").status_code == 401 for o in others)
    assert desk.get("/api/v1/me").status_code == 200 and theirs.get("/api/v1/me").status_code == 200
    assert db.session.scalars(select(ApiToken.revoked_at)).one() is None  # tokens have their own button
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "session.revoke_others")).one()


def test_another_users_session_or_token_is_not_found(app, world):
    mine = browser(app, "sup1", DESKTOP_EDGE)
    theirs = browser(app, "sup2", ANDROID_CHROME)
    their_row = sessions_of(world["users"]["sup2"])[0]
    issue_token(world["users"]["sup2"], "theirs")
    db.session.commit()
    their_token = db.session.scalars(select(ApiToken)).one()
    assert post_form(mine, f"/account/sessions/{their_row.id}/revoke").status_code == 404
    assert post_form(mine, f"/account/tokens/{their_token.id}/revoke").status_code == 404
    assert post_form(mine, "/account/sessions/999999/revoke").status_code == 404
    assert theirs.get("/api/v1/me").status_code == 200
    db.session.expire_all()
    assert their_token.revoked_at is None


def test_revoking_a_token_ends_it(app, world):
    sup1 = world["users"]["sup1"]
    desk = browser(app, "sup1", DESKTOP_EDGE)
    raw = issue_token(sup1, "tablet")
    db.session.commit()
    token = db.session.scalars(select(ApiToken)).one()
    assert post_form(desk, f"/account/tokens/{token.id}/revoke").status_code == 303
    r = new_client(app).get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_token"
    assert "tablet" not in desk.get("/account/").get_data(as_text=True)
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "token.revoke")).one()


def test_posts_without_a_csrf_token_are_refused(app, world):
    desk = browser(app, "sup1", DESKTOP_EDGE)
    row = sessions_of(world["users"]["sup1"])[0]
    for path in (f"/account/sessions/{row.id}/revoke", "/account/sessions/revoke-others", "/account/tokens/1/revoke"):
        assert desk.post(path).status_code == 400
    assert sessions_of(world["users"]["sup1"])[0].ended_at is None


def test_a_bad_id_is_not_a_500(app, world):
    desk = browser(app, "sup1", DESKTOP_EDGE)
    assert post_form(desk, "/account/sessions/abc/revoke").status_code == 404
    assert post_form(desk, "/account/sessions/99999999999999999999999/revoke").status_code == 404


def test_the_password_page_is_linked_when_it_exists(app, world):
    desk = browser(app, "sup1", DESKTOP_EDGE)
    html = desk.get("/account/").get_data(as_text=True)
    assert ("/password" in html) == ("auth.change_password" in app.view_functions)


def test_the_phones_more_page_links_here(app, world):
    phone = browser(app, "sup1", ANDROID_CHROME)
    assert 'href="/account/"' in phone.get("/more").get_data(as_text=True)
