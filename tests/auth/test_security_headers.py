"""What docs/security.md promises about headers and cookies, checked on real responses."""

import pytest

from tests.auth.test_sessions import new_client, signed_in_client

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@pytest.mark.parametrize("path", ["/login", "/api/v1/health", "/api/v1/me"])
def test_security_headers_on_pages_and_api(client, path):
    r = client.get(path)
    for name, value in HEADERS.items():
        assert r.headers[name] == value
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "Strict-Transport-Security" not in r.headers  # only when served over HTTPS (SESSION_COOKIE_SECURE)


def _session_cookie(c) -> str:
    return next(h for h in c.get("/login").headers.getlist("Set-Cookie") if h.startswith("session="))


def test_session_cookie_flags(app, create_user):
    c = new_client(app)
    cookie = _session_cookie(c)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_secure_cookie_and_hsts_when_configured(app, create_user):
    app.config["SESSION_COOKIE_SECURE"] = True
    c = new_client(app)
    cookie = _session_cookie(c)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert c.get("/login").headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_session_cookie_names_a_server_side_session(app, create_user):
    create_user("zhang")
    c = signed_in_client(app, "zhang")
    with c.session_transaction() as s:
        assert len(s["sid"]) >= 40 and set(s) >= {"_user_id", "sid"}
