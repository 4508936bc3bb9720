"""WeCom, DingTalk and Feishu sign-in against local stand-ins of their documented endpoints."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from tests.sso.conftest import live_sessions
from webapp.audit.models import AuditEntry
from webapp.auth.models import User, UserIdentity
from webapp.core.settings import set_setting
from webapp.extensions import db

WECOM_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Mobile/15E148 wxwork/4.1.20 MicroMessenger/7.0.1 Language/zh")
DINGTALK_UA = ("Mozilla/5.0 (Linux; Android 13; V2254A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/107.0 "
               "Mobile Safari/537.36 AliApp(DingTalk/7.5.0) com.alibaba.android.rimet/33661001 Channel/227200")
FEISHU_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 Lark/7.10.0 LarkLocale/zh_CN ChannelName/Feishu TTWebView/0")
DESK_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def provider_round_trip(client, standins, provider, member, user_agent=DESK_UA):
    """Start on our side, let the stand-in's authorize page answer, come back to our callback."""
    standins.default_member = member
    start = client.get(f"/sso/{provider}/start", headers={"User-Agent": user_agent})
    assert start.status_code == 302, start.get_data(as_text=True)
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    assert at_provider.status_code == 302
    back = urlsplit(at_provider.headers["Location"])
    assert back.path == f"/sso/{provider}/callback"
    return client.get(f"{back.path}?{back.query}", headers={"User-Agent": user_agent})


def audit_actions():
    db.session.expire_all()
    return [(a.action, a.data) for a in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


# ---- known people ------------------------------------------------------------------------------------

def test_wecom_known_identity_signs_in_like_a_password(client, standins, create_user):
    user = create_user("zhang", role="supervisor")
    db.session.add(UserIdentity(user_id=user.id, provider="wecom", subject="ZhangSan"))
    db.session.commit()
    standins.members["code-zs"] = {"userid": "ZhangSan", "name": "张三", "mobile": "13800138000"}

    resp = provider_round_trip(client, standins, "wecom", "code-zs")

    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    [row] = live_sessions(user)
    assert row.method == "wecom"
    db.session.refresh(user)
    assert user.last_sign_in_at is not None
    identity = db.session.scalar(select(UserIdentity).where(UserIdentity.user_id == user.id))
    assert identity.last_used_at is not None
    assert ("sso.sign_in", {"provider": "wecom"}) in audit_actions()
    home = client.get("/")
    assert home.status_code == 200
    # the server-side calls followed the documented sequence
    endpoints = [name for name, _ in standins.calls]
    assert endpoints[:4] == ["wecom_qr", "wecom_gettoken", "wecom_getuserinfo", "wecom_user_get"]
    # signing out ends it like any sign-in
    from tests.conftest import AuthActions
    AuthActions(client).logout()
    assert live_sessions(user) == []


def test_wecom_desk_start_goes_to_the_qr_page(client, standins):
    resp = client.get("/sso/wecom/start?next=/findings", headers={"User-Agent": DESK_UA})
    url = urlsplit(resp.headers["Location"])
    query = parse_qs(url.query)
    assert url.path == "/wwlogin/sso/login"
    assert query["login_type"] == ["CorpApp"] and query["appid"] == ["ww-corp"] and query["agentid"] == ["1000002"]
    assert query["redirect_uri"] == ["http://localhost/sso/wecom/callback"] and len(query["state"][0]) > 20


def test_next_page_is_kept_and_only_same_site(client, standins, create_user):
    user = create_user("li", role="manager", mobile="13900139000")
    standins.members["c1"] = {"unionId": "u-li", "name": "李四", "mobile": "13900139000"}
    standins.default_member = "c1"
    for target, expected in (("/findings", "/findings"), ("https://evil.example/x", "/"), ("//evil.example", "/")):
        start = client.get("/sso/dingtalk/start", query_string={"next": target})
        back = urlsplit(requests.get(start.headers["Location"], allow_redirects=False, timeout=5).headers["Location"])
        resp = client.get(f"{back.path}?{back.query}")
        assert resp.headers["Location"] == expected
        client.post("/logout", data={"csrf_token": _csrf(client)})
    assert live_sessions(user) == []


def test_start_when_signed_in_goes_on(client, standins, create_user, auth):
    create_user("signed")
    auth.login("signed")
    resp = client.get("/sso/wecom/start?next=/findings")
    assert resp.status_code == 302 and resp.headers["Location"] == "/findings"


def test_dingtalk_matches_by_mobile_then_links_the_identity(client, standins, create_user):
    user = create_user("wang", role="supervisor", mobile="138-0013-8000")
    standins.members["dt-1"] = {"unionId": "union-wang", "name": "王五", "mobile": "13800138000"}

    resp = provider_round_trip(client, standins, "dingtalk", "dt-1")

    assert resp.status_code == 302
    [row] = live_sessions(user)
    assert row.method == "dingtalk"
    identity = db.session.scalar(select(UserIdentity).where(UserIdentity.provider == "dingtalk"))
    assert (identity.user_id, identity.subject) == (user.id, "union-wang")
    assert ("sso.identity_linked", {"provider": "dingtalk", "matched_by": "mobile"}) in audit_actions()
    token_call = next(c for name, c in standins.calls if name == "dingtalk_token")
    assert token_call["json"] == {"clientId": "ding-client", "clientSecret": "ding-secret", "code": "dt-1",
                                  "grantType": "authorization_code"}
    me_call = next(c for name, c in standins.calls if name == "dingtalk_me")
    assert me_call["headers"]["x-acs-dingtalk-access-token"].startswith("tok-dt-1")

    # Next time the identity decides, even after the mobile number changed here.
    user.mobile = "13700000000"
    db.session.commit()
    client.post("/logout", data={"csrf_token": _csrf(client)})
    assert provider_round_trip(client, standins, "dingtalk", "dt-1").status_code == 302
    assert len(live_sessions(user)) == 1


def _csrf(client):
    from tests.conftest import csrf_from
    return csrf_from(client.get("/").get_data(as_text=True))


def test_feishu_mobile_with_country_code_matches(client, standins, create_user):
    user = create_user("zhao", role="dept_head", mobile="138 0013 8001")
    standins.members["fs-1"] = {"union_id": "on_zhao", "name": "赵六", "mobile": "+8613800138001"}

    resp = provider_round_trip(client, standins, "feishu", "fs-1")

    assert resp.status_code == 302
    [row] = live_sessions(user)
    assert row.method == "feishu"
    token_call = next(c for name, c in standins.calls if name == "feishu_token")
    assert token_call["json"]["grant_type"] == "authorization_code"
    assert token_call["json"]["redirect_uri"] == "http://localhost/sso/feishu/callback"


def test_wecom_mobile_from_the_user_ticket(client, standins, create_user):
    user = create_user("sun", role="supervisor", mobile="+86 138 0013 8002")
    standins.members["wc-2"] = {"userid": "SunQi", "name": "孙七", "ticket_mobile": "13800138002"}

    assert provider_round_trip(client, standins, "wecom", "wc-2").status_code == 302
    assert len(live_sessions(user)) == 1
    assert "wecom_getuserdetail" in [name for name, _ in standins.calls]


# ---- refusals ------------------------------------------------------------------------------------------

def test_unknown_person_is_refused_by_default(client, standins):
    standins.members["fs-x"] = {"union_id": "on_stranger", "name": "陌生人", "mobile": "13111111111"}

    resp = provider_round_trip(client, standins, "feishu", "fs-x")

    assert resp.status_code == 403
    page = resp.get_data(as_text=True)
    assert "Feishu" in page or "飞书" in page
    assert db.session.scalar(select(User).where(User.username.like("feishu-%"))) is None
    assert db.session.scalar(select(UserIdentity)) is None
    assert ("sso.refused", {"provider": "feishu", "reason": "unknown"}) in audit_actions()


def test_unknown_person_refused_in_english(client, standins):
    standins.members["fs-x"] = {"union_id": "on_stranger", "mobile": "13111111111"}
    client.post("/locale", data={"locale": "en", "csrf_token": _csrf_login(client)})
    page = provider_round_trip(client, standins, "feishu", "fs-x").get_data(as_text=True)
    assert "You signed in with Feishu, but nobody here has your account." in page


def test_unknown_person_refused_in_chinese(client, standins):
    standins.members["wc-x"] = {"userid": "Stranger", "mobile": "13111111111"}
    client.post("/locale", data={"locale": "zh_CN", "csrf_token": _csrf_login(client)})
    page = provider_round_trip(client, standins, "wecom", "wc-x").get_data(as_text=True)
    assert "企业微信" in page and "管理员" in page


def _csrf_login(client):
    from tests.conftest import csrf_from
    return csrf_from(client.get("/login").get_data(as_text=True))


def test_unknown_person_becomes_a_pending_staff_account(client, standins, admin_policy_pending):
    standins.members["wc-new"] = {"userid": "NewHire", "name": "新同事", "mobile": "13222222222"}

    resp = provider_round_trip(client, standins, "wecom", "wc-new")

    assert resp.status_code == 403
    assert "approval" in resp.get_data(as_text=True) or "审批" in resp.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.username == "wecom-newhire"))
    assert user is not None
    assert (user.role, user.active, user.pending_approval, user.department_id) == ("staff", False, True, None)
    assert (user.display_name, user.mobile) == ("新同事", "13222222222")
    assert live_sessions(user) == []
    assert client.get("/").status_code == 302  # not signed in

    # A second try: still waiting, and no second account.
    again = provider_round_trip(client, standins, "wecom", "wc-new")
    assert again.status_code == 403
    assert db.session.scalars(select(User).where(User.pending_approval.is_(True))).all() == [user]

    # Once an administrator approves it, the same sign-in works.
    user.pending_approval = False
    user.active = True
    db.session.commit()
    assert provider_round_trip(client, standins, "wecom", "wc-new").status_code == 302
    assert len(live_sessions(user)) == 1


@pytest.fixture
def admin_policy_pending(app):
    set_setting("sso_unknown_users", "create_pending")
    db.session.commit()


def test_disabled_user_is_refused(client, standins, create_user):
    user = create_user("qian", role="supervisor", mobile="13333333333", active=False)
    standins.members["dt-q"] = {"unionId": "u-qian", "mobile": "13333333333"}

    resp = provider_round_trip(client, standins, "dingtalk", "dt-q")

    assert resp.status_code == 403
    assert "disabled" in resp.get_data(as_text=True) or "停用" in resp.get_data(as_text=True)
    assert live_sessions(user) == []
    assert db.session.scalar(select(UserIdentity)) is None


def test_two_accounts_with_the_same_mobile_are_not_guessed(client, standins, create_user):
    create_user("a1", mobile="13444444444")
    create_user("a2", mobile="134-4444-4444")
    standins.members["fs-a"] = {"union_id": "on_a", "mobile": "+86 13444444444"}
    assert provider_round_trip(client, standins, "feishu", "fs-a").status_code == 403
    assert db.session.scalar(select(UserIdentity)) is None


# ---- provider failures: a 4xx page, never a 500 -------------------------------------------------------------

@pytest.mark.parametrize("provider,endpoint,status,payload", [
    ("wecom", "wecom_gettoken", 200, {"errcode": 40001, "errmsg": "invalid credential"}),
    ("wecom", "wecom_getuserinfo", 200, {"errcode": 40029, "errmsg": "invalid code"}),
    ("wecom", "wecom_user_get", 200, {"errcode": 60111, "errmsg": "userid not found"}),
    ("dingtalk", "dingtalk_token", 400, {"code": "invalidAuthCode", "message": "auth code invalid"}),
    ("dingtalk", "dingtalk_me", 403, {"code": "Forbidden.AccessDenied", "message": "no permission"}),
    ("feishu", "feishu_token", 400, {"code": 20003, "error": "invalid_grant", "error_description": "bad code"}),
    ("feishu", "feishu_user_info", 200, {"code": 99991663, "msg": "tenant access token invalid"}),
    ("feishu", "feishu_user_info", 502, {"not": "json shape we expect"}),
])
def test_provider_error_payloads_give_a_clear_400(client, standins, create_user, provider, endpoint, status, payload):
    standins.members["m"] = {"userid": "U1", "unionId": "U1", "union_id": "U1", "mobile": "13555555555"}
    create_user("someone", mobile="13555555555")
    standins.fail[endpoint] = (status, payload)

    resp = provider_round_trip(client, standins, provider, "m")

    assert resp.status_code == 400
    assert "could not confirm who you are" in resp.get_data(as_text=True) or "无法确认" in resp.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_provider_timeout_gives_a_400(client, standins, app):
    app.config["SSO_HTTP_TIMEOUT"] = 0.5
    standins.members["m"] = {"userid": "U1", "mobile": "13555555555"}
    standins.slow.add("wecom_gettoken")
    assert provider_round_trip(client, standins, "wecom", "m").status_code == 400


def test_unreachable_provider_gives_a_400(client, standins, app):
    standins.members["m"] = {"union_id": "U1"}
    standins.default_member = "m"
    start = client.get("/sso/feishu/start")
    back = urlsplit(requests.get(start.headers["Location"], allow_redirects=False, timeout=5).headers["Location"])
    app.config["FEISHU_API_BASE"] = "http://127.0.0.1:9"  # nothing listens on the discard port
    assert client.get(f"{back.path}?{back.query}").status_code == 400


def test_state_is_checked_and_single_use(client, standins, create_user):
    user = create_user("zhou", mobile="13666666666")
    standins.members["m"] = {"unionId": "u-zhou", "mobile": "13666666666"}
    standins.default_member = "m"
    start = client.get("/sso/dingtalk/start")
    back = urlsplit(requests.get(start.headers["Location"], allow_redirects=False, timeout=5).headers["Location"])
    query = parse_qs(back.query)

    tampered = client.get(back.path, query_string={"authCode": "m", "state": query["state"][0] + "x"})
    assert tampered.status_code == 400
    # the stash was used up by the failed attempt: the genuine callback cannot be replayed after it
    assert client.get(f"{back.path}?{back.query}").status_code == 400
    assert live_sessions(user) == []

    # no state at all, and a state from another provider's start
    assert client.get(back.path, query_string={"authCode": "m"}).status_code == 400
    client.get("/sso/feishu/start")
    assert client.get(back.path, query_string={"authCode": "m", "state": query["state"][0]}).status_code == 400


def test_provider_says_no(client, standins):
    start = client.get("/sso/feishu/start")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    resp = client.get("/sso/feishu/callback", query_string={"state": state, "error": "access_denied"})
    assert resp.status_code == 400
    assert "/login?manual=1" in resp.get_data(as_text=True)


@pytest.mark.parametrize("query", [
    {"state": "\x00", "code": "x"}, {"state": "s" * 10_000, "code": "c" * 10_000}, {"code": "=1+1"},
])
def test_hostile_callback_values(client, standins, query):
    client.get("/sso/wecom/start")
    assert client.get("/sso/wecom/callback", query_string=query).status_code == 400


def test_unconfigured_provider_is_404(client, standins):
    assert client.get("/sso/oidc/start").status_code == 404
    assert client.get("/sso/oidc/callback").status_code == 404
    assert client.get("/sso/nope/start").status_code == 404


# ---- the sign-in page --------------------------------------------------------------------------------

def test_sign_in_page_shows_a_button_per_provider(client, standins):
    client.post("/locale", data={"locale": "en", "csrf_token": _csrf_login(client)})
    page = client.get("/login", headers={"User-Agent": DESK_UA}).get_data(as_text=True)
    assert "Sign in with WeCom" in page and "Sign in with DingTalk" in page and "Sign in with Feishu" in page
    assert 'href="/sso/wecom/start"' in page
    assert "Scan the QR code with WeCom" in page
    assert "OpenID" not in page  # not configured here


def test_sign_in_page_buttons_in_chinese(client, standins):
    client.post("/locale", data={"locale": "zh_CN", "csrf_token": _csrf_login(client)})
    page = client.get("/login").get_data(as_text=True)
    assert "企业微信登录" in page and "钉钉登录" in page and "飞书登录" in page


def test_no_buttons_without_configuration(client, app):
    for key in ("WECOM_CORP_ID", "DINGTALK_CLIENT_ID", "FEISHU_APP_ID"):
        app.config[key] = None
    page = client.get("/login").get_data(as_text=True)
    assert "sso-btn" not in page


@pytest.mark.parametrize("agent,provider", [(WECOM_UA, "wecom"), (DINGTALK_UA, "dingtalk"), (FEISHU_UA, "feishu")])
def test_in_app_browser_signs_in_silently(client, standins, create_user, agent, provider):
    user = create_user("wu", role="supervisor", mobile="13777777777")
    standins.members["m"] = {"userid": "WuBa", "unionId": "u-wu", "union_id": "on_wu", "mobile": "13777777777"}
    standins.default_member = "m"

    page = client.get("/login?next=/findings", headers={"User-Agent": agent})
    assert page.status_code == 302
    start = urlsplit(page.headers["Location"])
    assert start.path == f"/sso/{provider}/start" and "inapp=1" in start.query
    to_provider = client.get(page.headers["Location"], headers={"User-Agent": agent})
    location = to_provider.headers["Location"]
    if provider == "wecom":
        # the in-app OAuth page, not the QR page
        assert "/connect/oauth2/authorize?" in location and "scope=snsapi_base" in location
        assert location.endswith("#wechat_redirect")
    back = urlsplit(requests.get(location, allow_redirects=False, timeout=5).headers["Location"])
    done = client.get(f"{back.path}?{back.query}", headers={"User-Agent": agent})
    assert done.status_code == 302 and done.headers["Location"] == "/findings"
    assert [r.method for r in live_sessions(user)] == [provider]


def test_in_app_browser_can_still_see_the_page(client, standins):
    assert client.get("/login?manual=1", headers={"User-Agent": WECOM_UA}).status_code == 200
    assert client.get("/login", headers={"User-Agent": DESK_UA}).status_code == 200
