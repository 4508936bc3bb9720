"""What the benchmarks share: a temporary database that is always removed, a company seeded by
`flask seed-scale`, signing in through the login form, and timing a request."""

import os
import re
import secrets
import shutil
import statistics
import tempfile
import time

from sqlalchemy import create_engine, text


def login(client, username: str, password: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert r.status_code == 302, r.status_code


def p95(values):
    values = sorted(values)
    return values[max(0, int(len(values) * 0.95) - 1)]


def timed(fn, runs: int, *, warm_up: bool = True):
    """(median, p95, max) wall time in ms, and the p95 of this process's CPU time (less disturbed
    by other load on the machine)."""
    if warm_up:
        fn()
    times, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return statistics.median(times), p95(times), max(times), p95(cpu)


class KeptDatabase:
    """A database seeded earlier and used as it is (`--database URL`): `flask seed-scale --findings
    1000000 --today 2026-11-20 --password bench-password-2026` once, then as many runs as wanted
    without seeding 1M findings each time (≈ 4 minutes). Brought to the latest migration; never
    dropped — only the run's temporary directory is removed."""

    def __init__(self, url: str, prefix: str):
        self.url, self.app, self.tmp = url, None, tempfile.mkdtemp(prefix=f"{prefix}-")

    def close(self):
        try:
            if self.app is not None:
                from webapp.extensions import db

                with self.app.app_context():
                    db.session.remove()
                    db.engine.dispose()
            self._drop()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _drop(self):
        pass


class TempDatabase(KeptDatabase):
    """A SQLite file in a temporary directory, or a PostgreSQL database made for the run; dropped on exit."""

    def __init__(self, pg_url: str | None, prefix: str):
        self.tmp = tempfile.mkdtemp(prefix=f"{prefix}-")
        self.pg_url, self.name, self.app = pg_url, None, None
        if pg_url:
            self.name = f"{prefix.replace('-', '_')}_{os.getpid()}_{secrets.token_hex(3)}"
            self.admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = pg_url.rsplit("/", 1)[0] + "/" + self.name
        else:
            self.url = f"sqlite:///{self.tmp}/bench.db"

    def _drop(self):
        if self.name:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self.admin.dispose()


def open_database(url: str | None, pg_url: str | None, prefix: str):
    return KeptDatabase(url, prefix) if url else TempDatabase(pg_url, prefix)


def make_app(database, findings: int, today, password: str):
    """An app on the database with `flask seed-scale`'s company of `findings` findings."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.demo.scale import seed_scale

    app = create_app({"SQLALCHEMY_DATABASE_URI": database.url, "MEDIA_ROOT": f"{database.tmp}/media",
                      "SECRET_KEY": "bench", "INSTANCE_PATH": database.tmp})
    database.app = app
    with app.app_context():
        upgrade()
        if not isinstance(database, TempDatabase):
            seeded = _seeded(database.url)
        else:
            seeded = seed_scale(findings, seed=42, today=today, password=password)
            print(f"seed-scale: {seeded['findings']:,} findings, {seeded['rectifications']:,} rectifications, "
                  f"{seeded['sites']:,} sites, {seeded['visits']:,} visits, {seeded['tally rows']:,} tally rows "
                  f"in {seeded['seconds']} s", flush=True)
    # What a gunicorn worker does once the app is loaded (gunicorn.conf.py): the requests below are
    # timed as a deployed worker serves them.
    from webapp.core.runtime import settle_heap

    settle_heap()
    return app, seeded


def manager_client(database, findings: int, today, password: str, unit: str, runs: int, about: str = ""):
    """The seeded company's app and a client signed in as its manager, with the run's heading printed:
    (app, client, seeded). `unit`: what each timing repeats ("a view"); `about`: more of the company."""
    app, seeded = make_app(database, findings, today, password)
    client = app.test_client()
    login(client, "scale-manager", password)
    dialect = "PostgreSQL" if database.url.startswith("postgresql") else "SQLite"
    print(f"\n{dialect}, {seeded['findings']:,} findings{about}, {runs} requests {unit} (ms: wall p50 / wall p95 / "
          f"wall max / app CPU p95)")
    return app, client, seeded


def time_pages(client, pages, runs: int, width: int) -> None:
    """Each (label, url, headers) through the app: once to warm, then `runs` requests, each a 200; a
    line of wall p50 / p95 / max and app CPU p95 (ms) per page."""
    for label, url, headers in pages:
        def one(url=url, headers=headers):
            r = client.get(url, headers=headers)
            assert r.status_code == 200 and len(r.data) < 500_000, (url, r.status_code, len(r.data))
        p50, p95, mx, cpu95 = timed(one, runs)
        print(f"  {label:{width}s} {p50:8.1f} / {p95:8.1f} / {mx:8.1f} / {cpu95:8.1f}")


def _seeded(url: str) -> dict:
    """What seed_scale returns, read back from a database it seeded earlier."""
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import Department, Finding, Site, User

    ids = lambda stmt: list(db.session.scalars(stmt))  # noqa: E731
    seeded = {
        "findings": db.session.scalar(select(func.count()).select_from(Finding)),
        "manager_ids": ids(select(User.id).where(User.username == "scale-manager")),
        "department_ids": ids(select(Department.id).where(Department.code.like("SC-D%")).order_by(Department.code)),
        "site_ids": ids(select(Site.id).where(Site.code.like("SC-S%")).order_by(Site.code)),
        "supervisor_ids": ids(select(User.id).where(User.username.like("scale-sup%")).order_by(User.created_at, User.id)),
    }
    db.session.rollback()
    safe = url.split("@")[-1]
    print(f"kept database {safe}: {seeded['findings']:,} findings, {len(seeded['site_ids']):,} sites", flush=True)
    return seeded


def scale_main(doc: str, prefix: str, body) -> None:
    """The command line of a benchmark of pages at chain scale (findings list, review queue, ranking,
    rectification list): `body(database, findings, runs)` runs on the seeded company — kept
    (`--database`) or temporary, removed whatever happens — on the seed's "today", 2026-11-20, and
    returns the exit status (0: within budget)."""
    import argparse
    import sys

    import time_machine

    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", help="PostgreSQL URL of a server where a temporary database may be created")
    ap.add_argument("--database", help="a database seeded earlier by flask seed-scale (SQLAlchemy URL), kept")
    ap.add_argument("--findings", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=100)
    a = ap.parse_args()
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    database = open_database(a.database, a.pg, prefix)
    try:
        with time_machine.travel("2026-11-20 02:00 +0000", tick=True):
            status = body(database, a.findings, a.runs)
    finally:
        database.close()
    sys.exit(status)
