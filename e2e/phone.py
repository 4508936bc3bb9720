"""Helpers for the phone-app browser tests (e2e/test_phone_*.py)."""

import io
import re
import time

from PIL import Image, ImageDraw

from e2e.conftest import login


def photo_file(label: str, size=(3200, 2400), hue=0) -> dict:
    """A camera-sized JPEG for set_input_files (the app shrinks it to ≤ 2048 px)."""
    img = Image.new("RGB", size, (180 + hue % 60, 170, 150))
    d = ImageDraw.Draw(img)
    for i in range(8):
        d.rectangle([100 + i * 330, 200, 300 + i * 330, 1700], fill=((hue + i * 40) % 255, 90, (i * 60) % 255))
    d.text((60, 60), label, fill=(0, 0, 0))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return {"name": f"{label}.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


def wait_until(page, expression: str, timeout=30000):
    """Poll a JS expression (page.wait_for_function evaluates strings, which the app's CSP forbids)."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        if page.evaluate(expression):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(100)


def snap(shot, page, name):
    """A screenshot from the top of the page (a sticky header otherwise lands mid-page)."""
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, name)


def open_app(page, base, username="supervisor", password="supervisor-demo-2026"):
    """Sign in, open /m/, wait until the service worker controls the page and a first sync ran."""
    login(page, base, username, password)
    page.goto(base + "/m/")
    page.wait_for_selector("body[data-ready]")
    wait_until(page, "navigator.serviceWorker.controller !== null", timeout=20000)
    wait_synced(page)


def show_phone_language(page, lang):
    """Press the phone app's language switch for `lang` (zh-CN or en) unless it is already shown."""
    button = page.locator(f".locale-switch button[lang='{lang}']")
    if button.count() and button.first.get_attribute("aria-pressed") != "true":
        button.first.click()
        page.wait_for_selector("body[data-ready]")


def add_interview(page, person: str, role: str, note: str):
    """On a visit's page (zh-CN): open 人员访谈, record an interview and wait until it is listed."""
    page.get_by_role("link", name="人员访谈").click()
    page.get_by_label("访谈对象").fill(person)
    page.get_by_label("岗位").fill(role)
    page.get_by_label("访谈记录").fill(note)
    page.get_by_role("button", name="添加").click()
    page.get_by_text(note).wait_for()


def unsynced(page) -> int:
    return int(page.locator("#unsynced").get_attribute("data-n") or "0")


def wait_synced(page, timeout=30000):
    """Wait until a sync finished and nothing is left unsynced."""
    wait_until(page, "document.body.dataset.sync === 'done' && document.getElementById('unsynced').dataset.n === '0'",
               timeout=timeout)


def sync_now(page, timeout=30000):
    page.evaluate("delete document.body.dataset.sync")
    page.locator("#sync-now").click()
    wait_until(page, "document.body.dataset.sync === 'done' || document.body.dataset.sync === 'error'", timeout=timeout)


def visit_id_from_url(url: str) -> str:
    return re.search(r"/m/visit/([0-9a-f-]{36})", url).group(1)


class Deployment:
    """A server of our own on a fixed port, so a test can 'deploy a new version' (stop, start with
    another SHELL_BUILD) while the phone keeps the same origin, service worker and IndexedDB."""

    def __init__(self, inst):
        from e2e.conftest import ROOT, _free_port, instance_env

        self.inst, self.root, self.port = inst, ROOT, _free_port()
        self.env = instance_env(inst)
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def seed(self):
        from e2e.conftest import seed_demo

        seed_demo(self.inst)

    def start(self, build: str | None = None, env: dict | None = None, args: tuple = ("-w", "1")):
        """Serve under gunicorn (`args`: its options), with `env` added to the environment."""
        import subprocess
        import sys
        import urllib.request

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *args, "-b", f"127.0.0.1:{self.port}", "webapp:create_app()"],
            env={**self.env, **({"SHELL_BUILD": build} if build else {}), **(env or {})}, cwd=self.root,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(150):
            try:
                urllib.request.urlopen(self.base + "/api/v1/health", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
