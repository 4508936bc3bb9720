"""Benchmark: the findings review list at chain scale (issue budget: p95 server time < 50 ms at 1M findings).

    .venv/bin/python bench/findings_list.py [--findings 1000000]          # SQLite (temp file)
    .venv/bin/python bench/findings_list.py --pg URL [--findings N]       # PostgreSQL (a temporary database)
    .venv/bin/python bench/findings_list.py --database URL                # a database seeded earlier, kept

Seeds the company of `flask seed-scale` (webapp/demo/scale.py; the database and its directory are
removed whatever happens) or uses one it seeded earlier (`--database`, left in place), then times real requests through the app (routing, scope,
query, template rendering) as a manager and as a supervisor: the filtered list, load-more pages and
full-text search (3+ characters: FTS5 trigram / pg_trgm; 1–2 characters: the LIKE fallback).
Prints p50/p95/max per scenario. Not part of the test suite.
"""

import itertools
import random
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import login, make_app, scale_main, timed  # noqa: E402  (bench/ is the script directory)

AREAS = ["process", "service", "efficiency", "risk", "teamwork"]
SEVERITIES = ["low", "medium", "high", "critical"]
STATUSES = ["open", "rectifying", "pending_acceptance", "closed"]
PASSWORD = "bench-password-2026"
TODAY = date(2026, 11, 20)


def measure(client, urls, runs, headers=None):
    """Timing of `runs` requests over `urls` in turn (see _timing.timed)."""
    turn = itertools.cycle(urls)

    def one():
        url = next(turn)
        r = client.get(url, headers=headers or {})
        assert r.status_code == 200, (url, r.status_code)

    return timed(one, runs, warm_up=False)


def _run(database, n, runs) -> int:  # noqa: C901
    if True:  # (kept indented: the scenarios below are unchanged)
        app, seeded = make_app(database, n, TODAY, PASSWORD)
        ids = {"depts": seeded["department_ids"], "sites": seeded["site_ids"], "sups": seeded["supervisor_ids"],
               "sup_usernames": ["scale-sup0"]}
        client = app.test_client()
        login(client, "scale-manager", PASSWORD)
        sup_client = app.test_client()
        login(sup_client, ids["sup_usernames"][0], PASSWORD)
        rnd = random.Random(7)
        filters = []
        for _ in range(40):
            f = {}
            for key, values in (("department_id", ids["depts"]), ("site_id", ids["sites"]),
                                ("severity", SEVERITIES), ("status", STATUSES), ("area", AREAS),
                                ("supervisor_id", ids["sups"])):
                if rnd.random() < 0.35:
                    f[key] = rnd.choice(values)
            if rnd.random() < 0.3:
                f["date_from"], f["date_to"] = "2025-01-01", "2025-06-30"
            filters.append("&".join(f"{k}={v}" for k, v in f.items()))
        with app.app_context():
            from webapp.extensions import db
            from webapp.findings.models import Finding
            from webapp.findings.search import encode_cursor
            deep = db.session.scalars(
                __import__("sqlalchemy").select(Finding).order_by(Finding.captured_at.desc(), Finding.id.desc())
                .offset(min(5000, n // 2)).limit(1)).one()
            cursor = encode_cursor(deep)
        scenarios = [
            ("list, no filter", client, ["/findings/"]),
            ("list, random filters", client, [f"/findings/?{q}" for q in filters]),
            ("list, overdue", client, ["/findings/?overdue=1", "/findings/?overdue=1&severity=high"]),
            ("list, conflict flag", client, ["/findings/?conflict=1"]),
            ("load more (htmx, deep cursor)", client, [f"/findings/?cursor={cursor}",
                                                       f"/findings/?cursor={cursor}&severity=low"]),
            ("search 3+ chars", client, ["/findings/?q=" + w for w in
                                         ("消防通道", "冷柜温度", "过期商品未", "顾客体验", "应急灯损坏", "编号12345")]),
            ("search 2 chars (LIKE)", client, ["/findings/?q=" + w for w in ("消防", "冷柜", "价签", "着装")]),
            ("search + filter", client, ["/findings/?q=消防通道&severity=high", "/findings/?q=冷柜温度&status=open"]),
            ("supervisor scope, filtered", sup_client, ["/findings/", "/findings/?severity=critical",
                                                        "/findings/?q=收银台"]),
        ]
        dialect = "PostgreSQL" if database.url.startswith("postgresql") else "SQLite"
        print(f"\n{dialect}, {n} findings, {runs} requests per scenario "
              f"(ms: wall p50 / wall p95 / wall max / app CPU p95)")
        worst = 0.0
        for name, c, urls in scenarios:
            measure(c, urls, 3)  # warm up
            hx = {"HX-Request": "true"} if "htmx" in name else None
            p50, p95, mx, cpu95 = measure(c, urls, runs, hx)
            worst = max(worst, p95)
            flag = "" if p95 < 50 else "  <-- over budget"
            print(f"  {name:32s} {p50:6.1f} / {p95:6.1f} / {mx:6.1f} / {cpu95:6.1f}{flag}")
        print(f"worst p95: {worst:.1f} ms (budget 50 ms)")
        return 0 if worst < 50 else 1


def main():
    scale_main(__doc__, "bench-findings", _run)


if __name__ == "__main__":
    main()
