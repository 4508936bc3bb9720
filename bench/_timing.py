"""What the benchmarks share: signing in through the login form, and timing a request."""

import re
import statistics
import time


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
