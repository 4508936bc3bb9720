"""Browser tests: a real server (the app on a SQLite file, seeded with the demo) and Debian's Chromium.

Playwright cannot download its browser here, so it drives /usr/bin/chromium. Screenshots go to
e2e/artifacts/ (ignored by git) — look at them.
"""

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "e2e" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
PHONE = {"viewport": {"width": 360, "height": 640}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 860}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FLASK = [sys.executable, "-m", "flask", "--app", "webapp"]  # the app's CLI, as `make run` calls it


def instance_env(inst: Path) -> dict:
    """The environment of a test server whose instance folder (SQLite database, photos) is `inst`."""
    return {**os.environ, "INSTANCE_PATH": str(inst), "DATABASE_URL": f"sqlite:///{inst / 'e2e.db'}",
            "SECRET_KEY": "e2e-secret", "MEDIA_ROOT": str(inst / "media")}


_seeded: list[Path] = []  # the one instance folder that `flask db upgrade` + `seed-demo` built


def seed_demo(inst: Path) -> None:
    """Put the seeded demo (database and photos) into the instance folder `inst`. `flask db upgrade`
    and `seed-demo` run once per test session, into a folder of their own, the way `make run` sets
    up; every server's instance gets a copy of it (10 s each otherwise, for a dozen servers). The
    seed dates itself from today, as each server would have: a session does not outlive a day."""
    if not _seeded:
        built = Path(tempfile.mkdtemp(prefix="e2e-demo-"))
        atexit.register(shutil.rmtree, built, True)
        for step in (["db", "upgrade"], ["seed-demo"]):
            subprocess.run([*FLASK, *step], env=instance_env(built), check=True, cwd=ROOT, capture_output=True)
        _seeded.append(built)
    inst.mkdir(parents=True, exist_ok=True)
    for item in _seeded[0].iterdir():  # e2e.db (its -wal too, if one is left) and media/
        if item.is_dir():
            shutil.copytree(item, inst / item.name)
        else:
            shutil.copy2(item, inst / item.name)


@contextmanager
def serve(inst: Path):
    """The seeded demo (`seed_demo`), then the app under gunicorn and a job-queue worker — the way
    `make run` sets it up."""
    env = instance_env(inst)
    seed_demo(inst)
    port = _free_port()
    log = open(inst / "server.log", "wb")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "webapp:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
    )
    # The job queue's worker beside it, as `make run` starts one (the dashboard's recounts, the outbox).
    worker = subprocess.Popen([*FLASK, "jobs", "worker", "--workers", "1"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/api/v1/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        worker.kill()
        log.close()
        raise RuntimeError("server did not start: " + (inst / "server.log").read_text())
    try:
        yield base
    finally:
        proc.terminate()
        worker.terminate()
        proc.wait(10)
        worker.wait(10)
        log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("instance")) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: the browser suite is required under CI")
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def shot():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return take


def docs_screenshots():
    """Where a test's README pictures go: docs/screenshots/ when refreshing them
    (UPDATE_DOCS_SCREENSHOTS=1), else e2e/artifacts/, so that a test run leaves the tracked files alone."""
    return ROOT / "docs" / "screenshots" if os.environ.get("UPDATE_DOCS_SCREENSHOTS") else ARTIFACTS


def login(page, base, username, password):
    """Sign in, and show the browser's language: the demo's users are shared by every test on one
    server, and a user's saved language (another test may have switched it) wins over the browser's,
    on the desk and in the phone app."""
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(base + "/")
    show_language(page, "zh-CN" if page.evaluate("navigator.language").lower().startswith("zh") else "en")


def show_language(page, lang):
    """Press the top bar's language switch for `lang` (zh-CN or en) unless it is already shown; the
    signed-in user's saved language changes with it."""
    button = page.locator(f".topbar .locale-switch button[lang='{lang}']")
    if button.count() and button.first.get_attribute("aria-pressed") != "true":
        button.first.click()
        page.wait_for_load_state()


def signed_in(browser, server, username, password, lang, device=DESKTOP):
    """A new browser context in `lang`, signed in as `username` (login shows the browser's language)."""
    ctx = browser.new_context(locale=lang, **device)
    page = ctx.new_page()
    login(page, server, username, password)
    return ctx, page
