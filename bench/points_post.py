"""Benchmark: posting the points ledger (`post_points`) for one quarter at 100,000 findings.

    .venv/bin/python bench/points_post.py [--n 100000] [--pg URL]

Seeds like bench/findings_list.py (findings over ~2.5 years, 10% with a rectification), adds the demo
rules, then times the first posting of 2025-Q3, a re-run (nothing new: idempotence) and the ledger page
and Excel export as a manager. Prints the figures; not part of the test suite.
"""

import argparse
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from bench.findings_list import login, seed  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--pg", default=None)
    opts = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url, admin, name = f"sqlite:///{tmp / 'bench.db'}", None, None
    if opts.pg:
        name = f"bench_points_{secrets.token_hex(3)}"
        admin = create_engine(opts.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = opts.pg.rsplit("/", 1)[0] + "/" + name
    try:
        from flask_migrate import upgrade

        from webapp import create_app
        from webapp.demo.seed import POINT_RULES
        from webapp.extensions import db
        from webapp.results.models import PointEntry, PointRule
        from webapp.results.periods import parse_period
        from webapp.results.points.operations import post_points

        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MEDIA_ROOT": str(tmp / "media"), "SECRET_KEY": "b"})
        with app.app_context():
            upgrade()
        seed(app, opts.n)
        with app.app_context():
            for code, rule_name, trigger, severity, points in POINT_RULES:
                db.session.add(PointRule(code=code, name=rule_name, trigger=trigger, severity=severity, points=points))
            db.session.commit()
            period = parse_period("2025-Q3")
            for label in ("first posting", "re-run"):
                t0 = time.perf_counter()
                result = post_points(period)
                db.session.commit()
                print(f"{label}: {time.perf_counter() - t0:.2f}s, {result.total_added} entries added")
            print("entries:", db.session.scalar(select(func.count()).select_from(PointEntry)))
        client = app.test_client()
        login(client, "bench-manager")
        for path, runs in (("/results/points/?period=2025-Q3", 5), ("/results/points/export.xlsx?period=2025-Q3", 1)):
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                assert client.get(path).status_code == 200
                times.append(time.perf_counter() - t0)
            print(f"GET {path}: best {min(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms")
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
