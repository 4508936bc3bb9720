import pytest


def test_health_is_json(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok"}


def test_security_headers_on_every_page(client):
    r = client.get("/login")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "same-origin"


def test_api_errors_are_json_never_html(client):
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404
    assert r.is_json and r.get_json()["error"]["code"] == "not_found"
    r = client.get("/api/v1/me")
    assert r.status_code == 401 and r.get_json()["error"]["message"]


def test_html_errors_are_pages_in_the_users_language(client):
    r = client.get("/nowhere", headers={"Accept-Language": "en"})
    assert r.status_code == 404 and b"Not found, or not yours to see." in r.data
    r = client.get("/nowhere", headers={"Accept-Language": "zh-CN"})
    assert "未找到" in r.get_data(as_text=True)


def test_pages_need_sign_in(client):
    r = client.get("/findings/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_vendor_assets_are_served_locally(client):
    with client.get("/static/vendor/htmx-2.0.11.min.js") as r:
        assert r.status_code == 200 and b"htmx" in r.data
    page = client.get("/login").get_data(as_text=True)
    assert "https://" not in page  # no CDN: the app must work with no internet


def test_unexpected_error_is_a_json_500_on_the_api(app, client):
    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("kaput")

    r = client.get("/api/v1/boom")
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "internal"


def test_each_database_connection_is_set_up_for_the_app(app):
    """SQLite: WAL and a busy timeout (writers queue). PostgreSQL: a custom plan for every run of a
    prepared statement (a generic plan is blind to the dashboard's date windows), and no parallel
    plans unless PG_PARALLEL_WORKERS says so."""
    from sqlalchemy import text

    from webapp.extensions import db

    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            assert conn.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"
            assert conn.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
        else:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000


@pytest.mark.parametrize("app_config", [{"PG_PARALLEL_WORKERS": 2}])
def test_parallel_workers_are_a_setting(app):
    """PG_PARALLEL_WORKERS gives PostgreSQL's parallel workers back to the app's connections
    (SQLite has none: its connections are set up as always)."""
    from sqlalchemy import text

    from webapp.extensions import db

    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            assert conn.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "2"
        else:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
