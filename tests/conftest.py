"""Fixtures: one schema per test session (built by the real migrations), emptied after each test.

TEST_DATABASE_URL selects the database (PostgreSQL in CI); otherwise a SQLite file in a temp dir.
"""

import os
import re
import secrets
from datetime import UTC, date, datetime

import pytest
import time_machine
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.security import generate_password_hash

from webapp import create_app
from webapp.extensions import db
from webapp.models import (
    ChecklistTemplate,
    Department,
    Finding,
    Site,
    TemplateItem,
    User,
    Visit,
)

PASSWORD = "correct-horse-battery"


def _reuse_compiled_url_builders():
    """Every test builds its own app, and Werkzeug compiles two URL builder functions per route each
    time (≈ 0.1 s of ~930 routes, a third of a short test). A builder's code depends only on the rule's
    text, its parsed parts, its defaults and its converters' types (it reads the converters from the
    bound rule when called), so the suite compiles each once. Production builds one app per process."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    cache = {}

    def cached(self, append_unknown=True):
        key = (self.rule, append_unknown, tuple(self._trace), repr(sorted((self.defaults or {}).items())),
               tuple((k, type(v)) for k, v in self._converters.items()))
        if key not in cache:
            cache[key] = compile_builder(self, append_unknown)  # a plain function; compile() binds it
        return cache[key]

    Rule._compile_builder = cached


_reuse_compiled_url_builders()

# "Today" for every test: 2026-11-20 10:00 in Shanghai. The fixtures' dates (deadlines, periods,
# scheduled visits) are written against it, so the suite passes on any real day. The clock ticks
# from there, so durations (token ages, lockout windows) still pass as they would.
PINNED_NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def pinned_clock():
    with time_machine.travel(PINNED_NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture(scope="session")
def db_url(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    # A private database per run, so parallel runs (and a developer's server) never collide.
    name = f"test_run_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _schema(db_url, tmp_path_factory):
    """Build the schema once with the real Alembic migrations."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "TESTING": True,
                      "MEDIA_ROOT": str(tmp_path_factory.mktemp("media"))})
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        db.session.remove()
        db.engine.dispose()
    return db_url


def _empty_all_tables():
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        # TRUNCATE of every table cost ≈ 1.5 s a test (new files for ~90 tables); a test writes to a
        # few, so those are found in one query and emptied with DELETE (foreign keys off for the
        # transaction, as TRUNCATE … CASCADE would), and every sequence starts again at 1.
        with db.engine.begin() as conn:
            probe = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables)
            used = [row[0] for row in conn.execute(text(probe))]
            if used:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                for name in used:
                    conn.execute(text(f'DELETE FROM "{name}"'))
            conn.execute(text("SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S'"))
    else:
        with db.engine.begin() as conn:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def app_config():
    """Extra configuration for the `app` fixture; a test module overrides it to change a setting
    that create_app() reads (the rate limiter's storage, for one)."""
    return {}


@pytest.fixture
def app(_schema, tmp_path, app_config):
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": _schema,
        "TESTING": True,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "SECRET_KEY": "test-secret",
        **app_config,
    })
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (fresh `g` and DB session), as in production; the
    test's own context stays pushed around it for setup and assertions."""

    def open(self, *args, **kwargs):
        # End the test's own transaction first: on SQLite it would otherwise hold the write lock
        # (BEGIN IMMEDIATE) that the request is about to wait for.
        if has_app_context():
            db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshContextClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in page"
    return m.group(1)


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, username, password=PASSWORD):
        page = self.client.get("/login")
        token = csrf_from(page.get_data(as_text=True))
        return self.client.post("/login", data={"username": username, "password": password, "csrf_token": token})

    def csrf(self) -> str:
        return csrf_from(self.client.get("/").get_data(as_text=True))

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.csrf()})


@pytest.fixture
def auth(client):
    return AuthActions(client)


# ---- factories ------------------------------------------------------------------------------

@pytest.fixture
def create_department(app):
    def make(code="D1", name="测试部", **kw):
        dept = Department(code=code, name=name, name_en=kw.pop("name_en", f"Dept {code}"), **kw)
        db.session.add(dept)
        db.session.commit()
        return dept

    return make


_CHEAP_HASHES: dict[str, str] = {}


def _cheap_hash(password: str) -> str:
    """A password hash that is quick to make and to check. The app's own (scrypt, ≈ 0.1 s each way
    by design) made fixtures and sign-ins most of the suite's time; tests/auth checks the real one."""
    if password not in _CHEAP_HASHES:
        _CHEAP_HASHES[password] = generate_password_hash(password, method="pbkdf2:sha256:1000")
    return _CHEAP_HASHES[password]


@pytest.fixture
def create_user(app):
    def make(username, role="supervisor", department=None, password=PASSWORD, **kw):
        user = User(username=username, role=role, display_name=kw.pop("display_name", username),
                    department_id=department.id if department else None, password_hash=_cheap_hash(password), **kw)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def create_template(app):
    def make(code="T", items=(("process", "P1", False), ("risk", "R1", True))):
        tpl = ChecklistTemplate(code=code, revision=1, name="模板")
        db.session.add(tpl)
        db.session.flush()
        for pos, (area, icode, photo) in enumerate(items):
            db.session.add(TemplateItem(template_id=tpl.id, area=area, code=icode, title=icode,
                                        photo_required_on_fail=photo, position=pos))
        db.session.commit()
        return tpl

    return make


@pytest.fixture
def create_site(app):
    def make(department, code="S1", name="测试场所"):
        site = Site(code=code, name=name, department_id=department.id)
        db.session.add(site)
        db.session.commit()
        return site

    return make


@pytest.fixture
def create_visit(app, create_template):
    cache = {}

    def make(site, supervisor, status="scheduled", template=None):
        if template is None:
            template = cache.get("tpl") or create_template()
            cache["tpl"] = template
        visit = Visit(site_id=site.id, department_id=site.department_id, template_id=template.id,
                      supervisor_id=supervisor.id, status=status, scheduled_for=date.today())
        db.session.add(visit)
        db.session.commit()
        return visit

    return make


@pytest.fixture
def create_finding(app):
    def make(visit, title="问题", department=None, severity="medium", **kw):
        kw.setdefault("review_status", "confirmed")  # a finding made here stands as already reviewed
        f = Finding(visit_id=visit.id, site_id=visit.site_id, supervisor_id=visit.supervisor_id, title=title,
                    department_id=(department.id if department else visit.department_id), severity=severity,
                    area=kw.pop("area", "process"), captured_at=kw.pop("captured_at", datetime.now(UTC)), **kw)
        db.session.add(f)
        db.session.commit()
        return f

    return make


@pytest.fixture
def world(create_department, create_site, create_user, create_visit, create_finding):
    """Two departments, a site each, every role, and a visit + finding per supervisor."""
    d1, d2 = create_department("D1", "一部"), create_department("D2", "二部")
    s1, s2 = create_site(d1, "S1"), create_site(d2, "S2")
    users = {
        "admin": create_user("admin", "admin"),
        "manager": create_user("manager", "manager"),
        "sup1": create_user("sup1", "supervisor"),
        "sup2": create_user("sup2", "supervisor"),
        "head1": create_user("head1", "dept_head", d1),
        "head2": create_user("head2", "dept_head", d2),
        "staff1": create_user("staff1", "staff", d1, display_name="员工甲"),
    }
    v1 = create_visit(s1, users["sup1"])
    v2 = create_visit(s2, users["sup2"])
    f1 = create_finding(v1, "一部的问题", responsible_person="员工甲")
    f2 = create_finding(v2, "二部的问题")
    return {"depts": (d1, d2), "sites": (s1, s2), "users": users, "visits": (v1, v2), "findings": (f1, f2)}
