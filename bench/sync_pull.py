"""Benchmark of GET /api/v1/sync/pull (docs/sync-protocol.md, Pull) on the company of `flask seed-scale`:
the first pull of a device that has nothing, through the app over HTTP (the Flask test client: the
full request path — sign-in cookie, argument parsing, the scope query, the records, the JSON and the
gzip), counting only the records actually received (decompressed and parsed by the client).

    .venv/bin/python bench/sync_pull.py [--findings 100000] [--db sqlite|postgresql]

Prints, in one run, side by side:
  (a) the full-history pull of a manager (what an API client gets): records/s and bytes on the wire
      — the column encoding with gzip (`encoding=columns`, 5,000 records a page) against the baseline,
      the JSON pages of 500 as they were (no compression asked), and the JSON pages with gzip;
  (b) a fresh manager phone's first pull as the phone app asks now (`scope=phone`, the column
      encoding, 5,000 a page, gzip) against what it asked before (the full history in JSON pages of
      500, uncompressed): round trips, seconds, MB on the wire;
  (c) a supervisor's first pull, now and before (their whole scope: a phone scope never narrows a
      supervisor's).

Goals (issue #20): full-history pull >= 20,000 records/s with a compact encoding; a supervisor's
first pull <= 1 s; a manager's phone does not pull the whole history. A benchmark, not a test.
"""

import argparse
import gzip
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._timing import TempDatabase, login, make_app  # noqa: E402

PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "bench-pull-1"


def first_pull(client, **params) -> dict:
    """Pull from nothing until `more` is false; what was received, counted by the client."""
    gzip_ok = params.pop("gzip", True)
    headers = {"Accept-Encoding": "gzip"} if gzip_ok else {}
    cursor, horizon = None, None
    trips = wire = records = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while True:
        q = dict(params)
        if cursor is not None:
            q["cursor"] = cursor
        if horizon is not None:
            q["horizon"] = horizon
        r = client.get("/api/v1/sync/pull", query_string=q, headers=headers)
        assert r.status_code == 200, r.status_code
        body = r.get_data()
        wire += len(body)
        if r.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        page = json.loads(body)
        trips += 1
        if page.get("encoding") == "columns":
            records += sum(len(block["rows"]) for block in page["entities"].values()) + len(page["removed"])
        else:
            records += len(page["changes"])
        cursor, horizon = page["cursor"], page.get("horizon")
        if not page["more"]:
            break
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"records": records, "trips": trips, "bytes": wire, "seconds": seconds, "rate": records / seconds,
            "cpu": cpu, "cpu_rate": records / cpu}


def show(name: str, m: dict, base: dict | None = None) -> None:
    """Wall time, and this process's CPU time (server and client both run here; less disturbed by
    other load on a shared machine — PostgreSQL's own work is not in it)."""
    ratio = (f"  ×{m['rate'] / base['rate']:.1f} wall, ×{m['cpu_rate'] / base['cpu_rate']:.1f} CPU "
             f"vs the baseline") if base else ""
    print(f"  {name:<42} {m['records']:>7,} rec {m['trips']:>3} trips {m['seconds']:6.2f} s "
          f"{m['rate']:>7,.0f} rec/s | CPU {m['cpu']:6.2f} s {m['cpu_rate']:>7,.0f} rec/s | "
          f"{m['bytes'] / 1e6:5.1f} MB {m['bytes'] / max(m['records'], 1):4.0f} B/rec{ratio}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--findings", type=int, default=100_000)
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = ap.parse_args()
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    database = TempDatabase(PG_ADMIN if args.db == "postgresql" else None, "bench-pull")
    try:
        app, seeded = make_app(database, args.findings, today, PASSWORD)
        print(f"database: {args.db}; feed rows written by seed-scale: {seeded['feed rows']:,}; "
              f"now {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", flush=True)
        manager, supervisor = app.test_client(), app.test_client()
        login(manager, "scale-manager", PASSWORD)
        login(supervisor, "scale-sup0", PASSWORD)
        first_pull(manager, limit=500, scope="phone")  # warm the database's caches once

        print("(a) full history, manager (an API client):")
        base = first_pull(manager, limit=500, gzip=False)
        show("baseline: JSON pages of 500, uncompressed", base)
        show("JSON pages of 500, gzip", first_pull(manager, limit=500), base)
        cols = first_pull(manager, limit=5000, encoding="columns")
        show("columns, pages of 5,000, gzip", cols, base)

        print("(b) a fresh manager phone's first pull:")
        full = first_pull(manager, limit=500, gzip=False)
        show("before: full history, JSON pages of 500", full)
        phone = first_pull(manager, limit=5000, scope="phone", encoding="columns")
        show("now: phone scope, columns of 5,000, gzip", phone, full)
        print(f"  phone scope ÷ full history: {phone['records'] / full['records']:.1%} of the records, "
              f"{phone['trips']} vs {full['trips']} round trips, {phone['seconds'] / full['seconds']:.1%} of the "
              f"time, {phone['bytes'] / full['bytes']:.1%} of the bytes", flush=True)

        print("(c) a supervisor's first pull (their whole scope):")
        sup_before = first_pull(supervisor, limit=500, gzip=False)
        show("before: JSON pages of 500", sup_before)
        show("now: scope=phone, columns of 5,000, gzip", first_pull(supervisor, limit=5000, scope="phone",
                                                                   encoding="columns"), sup_before)
    finally:
        database.close()


if __name__ == "__main__":
    main()
