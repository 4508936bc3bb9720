"""OpenID Connect sign-in end to end against a real provider: panva/oidc-provider (tests/sso/oidc_provider)
run with Node.js on a free 127.0.0.1 port. Our side is the Flask test client; the provider's side is a
requests session (its cookies); redirects between the two are followed by hand."""

import os
import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine
from sqlalchemy import select

from tests.sso.conftest import live_sessions
from webapp.audit.models import AuditEntry
from webapp.auth.models import User, UserIdentity
from webapp.core.settings import set_setting
from webapp.extensions import db

HERE = Path(__file__).parent / "oidc_provider"
REDIRECT_URI = "http://localhost/sso/oidc/callback"  # the test client's own address
CLIENT_ID, CLIENT_SECRET = "supervision", "oidc-client-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def oidc_issuer():
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("Node.js and npm are needed for the OIDC provider (tests/sso/oidc_provider)")
    if not (HERE / "node_modules" / "oidc-provider").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, capture_output=True,
                       timeout=300)
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "REDIRECT_URI": REDIRECT_URI, "CLIENT_ID": CLIENT_ID,
           "CLIENT_SECRET": CLIENT_SECRET}
    proc = subprocess.Popen([node, "provider.js"], cwd=HERE, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(issuer + "/.well-known/openid-configuration", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the OIDC provider did not start")
            time.sleep(0.1)
        yield issuer
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def app_config(oidc_issuer):
    return {"OIDC_ISSUER": oidc_issuer, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_BUTTON_LABEL": "Example SSO", "SSO_HTTP_TIMEOUT": 5}


@pytest.fixture(autouse=True)
def real_time(pinned_clock):
    # The provider signs with the real clock; an ID token "issued in the future" is rightly refused.
    pinned_clock.move_to(datetime.fromtimestamp(time_machine.escape_hatch.time.time(), UTC))


def to_callback(client, issuer, account="alice"):
    """Start at our side and walk the provider until it sends the browser back to our callback."""
    start = client.get("/sso/oidc/start")
    assert start.status_code == 302, start.get_data(as_text=True)
    url = start.headers["Location"]
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0] and query["response_type"] == ["code"]
    browser = requests.Session()
    for _ in range(10):
        if url.startswith("http://localhost/"):
            return urlsplit(url)
        if "/interaction/" in url:
            url += ("&" if "?" in url else "?") + f"account={account}"
        resp = browser.get(url, allow_redirects=False, timeout=5)
        assert resp.status_code in (302, 303), resp.text[:500]
        location = resp.headers["Location"]
        url = location if location.startswith("http") else issuer + location
    raise AssertionError("the provider never sent the browser back")


def sign_in(client, issuer, account="alice"):
    back = to_callback(client, issuer, account)
    return client.get(f"{back.path}?{back.query}")


def test_sign_in_links_by_verified_email_and_then_by_identity(client, oidc_issuer, create_user):
    user = create_user("alice", role="supervisor", email="Alice@Example.com")

    resp = sign_in(client, oidc_issuer)

    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    [row] = live_sessions(user)
    assert row.method == "oidc"
    identity = db.session.scalar(select(UserIdentity).where(UserIdentity.user_id == user.id))
    assert (identity.provider, identity.subject) == ("oidc", "alice")
    assert client.get("/").status_code == 200
    entries = [(e.action, e.data) for e in db.session.scalars(select(AuditEntry))]
    assert ("sso.sign_in", {"provider": "oidc"}) in entries
    assert ("sso.identity_linked", {"provider": "oidc", "matched_by": "email"}) in entries

    # Later the identity decides, whatever the email says now.
    user.email = "someone-else@example.com"
    db.session.commit()
    client.post("/logout", data={"csrf_token": _csrf(client)})
    assert sign_in(client, oidc_issuer).status_code == 302
    assert len(live_sessions(user)) == 1


def _csrf(client):
    from tests.conftest import csrf_from
    return csrf_from(client.get("/").get_data(as_text=True))


def test_sign_in_by_verified_phone_number(client, oidc_issuer, create_user):
    user = create_user("zhang", role="manager", mobile="13800138000")  # alice's phone_number: +86 138 0013 8000
    assert sign_in(client, oidc_issuer).status_code == 302
    assert [r.method for r in live_sessions(user)] == ["oidc"]


def test_unverified_email_does_not_match(client, oidc_issuer, create_user):
    admin = create_user("root", role="admin", email="admin@example.com")
    resp = sign_in(client, oidc_issuer, account="eve")  # claims admin@example.com, unverified
    assert resp.status_code == 403
    assert live_sessions(admin) == []
    assert db.session.scalar(select(UserIdentity)) is None


def test_tampered_state_is_400(client, oidc_issuer, create_user):
    user = create_user("alice", email="alice@example.com")
    back = to_callback(client, oidc_issuer)
    query = parse_qs(back.query)
    resp = client.get(back.path, query_string={"code": query["code"][0], "state": "forged" + query["state"][0]})
    assert resp.status_code == 400
    # and the genuine answer cannot be used after that: the state was single use
    assert client.get(f"{back.path}?{back.query}").status_code == 400
    assert live_sessions(user) == []


def test_replayed_callback_is_400(client, oidc_issuer, create_user):
    user = create_user("alice", email="alice@example.com")
    back = to_callback(client, oidc_issuer)
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    assert client.get(f"{back.path}?{back.query}").status_code == 400
    assert len(live_sessions(user)) == 1


def test_forged_code_is_400(client, oidc_issuer):
    start = client.get("/sso/oidc/start")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    resp = client.get("/sso/oidc/callback", query_string={"code": "not-a-code", "state": state})
    assert resp.status_code == 400


def test_disabled_user_is_refused(client, oidc_issuer, create_user):
    user = create_user("alice", email="alice@example.com", active=False)
    resp = sign_in(client, oidc_issuer)
    assert resp.status_code == 403
    assert live_sessions(user) == []
    assert client.get("/").status_code == 302


def test_unknown_person_pending_when_the_administrator_says_so(client, oidc_issuer):
    set_setting("sso_unknown_users", "create_pending")
    db.session.commit()
    resp = sign_in(client, oidc_issuer, account="newcomer")
    assert resp.status_code == 403
    user = db.session.scalar(select(User).where(User.email == "newcomer@example.com"))
    assert (user.role, user.active, user.pending_approval, user.display_name) == ("staff", False, True, "新员工")
    assert live_sessions(user) == []


def test_sign_in_page_shows_the_configured_label(client, oidc_issuer):
    page = client.get("/login").get_data(as_text=True)
    assert "Example SSO" in page and 'href="/sso/oidc/start"' in page


def test_unreachable_issuer_is_a_clear_400(client, app):
    app.config["OIDC_ISSUER"] = "http://127.0.0.1:9"
    resp = client.get("/sso/oidc/start")
    assert resp.status_code == 400


def test_id_token_with_another_nonce_is_refused(client, oidc_issuer, create_user):
    user = create_user("alice", email="alice@example.com")
    back = to_callback(client, oidc_issuer)
    with client.session_transaction() as sess:
        stash = dict(sess["sso"])
        stash["nonce"] = "not-the-nonce-we-sent"
        sess["sso"] = stash
    assert client.get(f"{back.path}?{back.query}").status_code == 400
    assert live_sessions(user) == []
