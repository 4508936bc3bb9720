"""Load test (issue #20): 200 simulated people — supervisors' phones syncing, managers browsing the
findings list, the dashboard, reports, plans and rectification — against gunicorn with 2 workers on
PostgreSQL; then the same against two app servers (2 workers each) sharing one PostgreSQL and Redis
(rate limits and the job queue in Redis), requests spread over both as a load balancer would.

    .venv/bin/python bench/load.py [--users 200] [--duration 60] [--layout one|two|both]

Needs locust (`pip install -e '.[bench]'`). Prepares its own database (the real migrations, the
demo company, one extra supervisor with a visit and a token per simulated phone), runs locust
headless in its own process and prints p50/p95 per page and the error count; drops the database
and its Redis keys afterwards. Sign-in limits are raised for the run: every simulated person comes
from 127.0.0.1. A benchmark, not a test.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402

from tests.sync.servers import Server  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DESK = [{"username": "manager", "password": "manager-demo-2026"}]  # the desk pages measured are a manager's


def prepare(db_url: str, phones: int) -> list[dict]:
    """Migrations, the demo company, and `phones` supervisors each with a visit in progress and a token."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.auth.operations import issue_token
    from webapp.demo.seed import seed_demo
    from webapp.extensions import db
    from webapp.models import ChecklistTemplate, Site, User, Visit

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "bench"})
    out = []
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
        sites = db.session.scalars(select(Site).where(Site.department_id.is_not(None)).order_by(Site.code)).all()
        template = db.session.scalars(select(ChecklistTemplate).order_by(ChecklistTemplate.code)).first()
        for i in range(phones):
            site = sites[i % len(sites)]
            user = User(username=f"load{i}", display_name=f"压测督导{i}", role="supervisor", password_hash="x",
                        department_id=site.department_id)
            db.session.add(user)
            db.session.flush()
            visit = Visit(site_id=site.id, department_id=site.department_id, template_id=template.id,
                          supervisor_id=user.id, status="in_progress")
            db.session.add(visit)
            db.session.flush()
            out.append({"token": issue_token(user, "load"), "visit_id": visit.id})
        db.session.commit()
        db.engine.dispose()
    return out


def run(layout: str, users: int, duration: int, spawn_rate: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-load-{layout}-"))
    name = f"bench_load_{os.getpid()}_{layout}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    prefix = f"bench-load-{os.getpid()}-{layout}"
    extra = {"LOGIN_LIMIT_PER_ADDRESS": "100000 per minute", "LOGIN_LIMIT_PER_ADDRESS_AND_USERNAME": "100000 per minute",
             "RATELIMIT_KEY_PREFIX": prefix}
    if layout == "two":
        extra |= {"RATELIMIT_STORAGE_URI": REDIS, "HUEY_URL": REDIS, "HUEY_NAME": prefix}
    saved = {k: os.environ.get(k) for k in extra}
    servers = []
    try:
        supervisors = prepare(db_url, max(1, users * 3 // 5))
        os.environ.update(extra)
        servers = [Server(db_url, tmp / f"app{i}", workers=2).start() for i in range(2 if layout == "two" else 1)]
        plan = tmp / "plan.json"
        plan.write_text(json.dumps({"hosts": [s.base for s in servers], "supervisors": supervisors, "desk": DESK}))
        subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                        "-u", str(users), "-r", str(spawn_rate), "-t", f"{duration}s", "--only-summary",
                        "--csv", str(tmp / "stats"), "--host", servers[0].base],
                       env={**os.environ, "LOAD_PLAN": str(plan)}, check=False, cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        report(layout, users, duration, len(servers), tmp / "stats_stats.csv")
    finally:
        for s in servers:
            s.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        if layout == "two":
            import redis

            r = redis.Redis.from_url(REDIS)
            keys = list(r.scan_iter(f"*{prefix}*"))
            if keys:
                r.delete(*keys)


def report(layout: str, users: int, duration: int, servers: int, stats: Path) -> None:
    rows = list(csv.DictReader(stats.open()))
    print(f"== {users} simulated people for {duration} s against {servers} app server(s) x gunicorn -w 2, PostgreSQL"
          + (" + Redis" if layout == "two" else ""))
    print(f"   {'page':<36}{'requests':>9}{'errors':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}")
    for row in rows:
        label = "all requests" if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
        print(f"   {label:<36}{row['Request Count']:>9}{row['Failure Count']:>8}{row['50%']:>8}{row['95%']:>8}"
              f"{row['99%']:>8}")
    failures = stats.with_name("stats_failures.csv")
    for row in csv.DictReader(failures.open()) if failures.exists() else ():
        print(f"   error: {row['Method']} {row['Name']}: {row['Error']} x{row['Occurrences']}")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load after the ramp starts")
    parser.add_argument("--spawn-rate", type=int, default=20)
    parser.add_argument("--layout", choices=("one", "two", "both"), default="both")
    args = parser.parse_args()
    for layout in (("one", "two") if args.layout == "both" else (args.layout,)):
        run(layout, args.users, args.duration, args.spawn_rate)


if __name__ == "__main__":
    main()
