"""Phone app budget: shell size, first load on slow 4G, repeat load offline, sync of a big visit.

    .venv/bin/python bench/phone_shell.py

Starts its own seeded server (gunicorn, SQLite) and drives Debian's Chromium with network
throttling through CDP `Network.emulateNetworkConditions`. Prints the figures; asserts nothing.
Budgets (issue): shell < 150 KB compressed; first load < 3 s to interactive on slow 4G; repeat
load offline < 1 s; 30 findings + 30 photos sync in < 60 s on 4G.
"""

import gzip
import re
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from e2e.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, login  # noqa: E402
from e2e.phone import Deployment, wait_until  # noqa: E402

# Lighthouse's "slow 4G" (mobile default) and WebPageTest's "4G" profiles.
SLOW_4G = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8, "uploadThroughput": 750e3 / 8}
# Chrome DevTools' stricter "Slow 4G" preset (562.5 ms latency, 1.44 Mbps down, 675 kbps up).
DEVTOOLS_SLOW_4G = {"offline": False, "latency": 562.5, "downloadThroughput": 180e3 * 0.9, "uploadThroughput": 84.375e3 * 0.9}
FOUR_G = {"offline": False, "latency": 170, "downloadThroughput": 9e6 / 8, "uploadThroughput": 9e6 / 8}


def shell_size(base: str, cookie: str) -> tuple[int, int, list]:
    sw = urllib.request.urlopen(base + "/sw.js").read().decode()
    urls = re.search(r"const SHELL = (\[.*?\]);", sw).group(1)
    import json

    raw = gz = 0
    rows = []
    for url in json.loads(urls):
        if url.endswith((".png", ".svg", ".webmanifest")):
            continue  # HTML + JS + CSS only; icons are cached too but are not the shell's code
        req = urllib.request.Request(base + url, headers={"Cookie": cookie})
        body = urllib.request.urlopen(req).read()
        z = len(gzip.compress(body, 9))
        raw += len(body)
        gz += z
        rows.append((url, len(body), z))
    return raw, gz, rows


def ready_ms(page) -> float:
    wait_until(page, "performance.getEntriesByName('app-ready').length > 0", timeout=60000)
    return page.evaluate("performance.getEntriesByName('app-ready')[0].startTime")


MAKE_VISIT = """async ([visitId, n]) => {
  const { save } = await import('/static/js/app/outbox.js');
  const { prepare } = await import('/static/js/app/photos.js');
  const sizes = [];
  for (let i = 0; i < n; i++) {
    // A camera-like picture: gradients and noise compress about like a real photo.
    const c = document.createElement('canvas'); c.width = 4000; c.height = 3000;
    const g = c.getContext('2d');
    const grad = g.createLinearGradient(0, 0, 4000, 3000);
    grad.addColorStop(0, `hsl(${i * 37 % 360},60%,60%)`); grad.addColorStop(1, `hsl(${i * 91 % 360},50%,30%)`);
    g.fillStyle = grad; g.fillRect(0, 0, 4000, 3000);
    const img = g.getImageData(0, 0, 4000, 3000);
    for (let p = 0; p < img.data.length; p += 4) { const v = (Math.random() - 0.5) * 40; img.data[p] += v; img.data[p+1] += v; img.data[p+2] += v; }
    g.putImageData(img, 0, 0);
    const file = await new Promise(r => c.toBlob(r, 'image/jpeg', 0.92));
    const photo = await prepare(file);
    sizes.push(photo.size);
    await save('finding', crypto.randomUUID(), { visit_id: visitId, title: `Bench finding ${i + 1}`, severity: 'medium',
      status: 'open', area: 'risk', photos: [photo.sha256], captured_at: new Date().toISOString() }, { photos: [photo] });
  }
  return sizes;
}"""


def main():
    import argparse

    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dep = Deployment(Path(tmp))
        dep.seed()
        dep.start(build="bench")
        try:
            run(dep.base)
        finally:
            dep.stop()


def run(base):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = browser.new_context(locale="zh-CN", **PHONE)
        page = ctx.new_page()
        login(page, base, "supervisor", "supervisor-demo-2026")
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in ctx.cookies())
        raw, gz, rows = shell_size(base, cookie)
        print("== app shell (HTML + JS + CSS)")
        for url, r, z in rows:
            print(f"   {url:42s} {r / 1024:7.1f} KB  gzip {z / 1024:6.1f} KB")
        print(f"   total {raw / 1024:.1f} KB raw, {gz / 1024:.1f} KB gzip  (budget 150 KB)")

        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.clearBrowserCache")
        cdp.send("Network.emulateNetworkConditions", SLOW_4G)
        t0 = time.monotonic()
        page.goto(base + "/m/")
        first = ready_ms(page)
        print(f"== first load /m/ on slow 4G (150 ms RTT, 1.6 Mbps): interactive at {first / 1000:.2f} s "
              f"(wall {time.monotonic() - t0:.2f} s; budget 3 s)")
        strict = browser.new_context(locale="zh-CN", **PHONE)
        sp = strict.new_page()
        login(sp, base, "supervisor", "supervisor-demo-2026")
        scdp = strict.new_cdp_session(sp)
        scdp.send("Network.enable")
        scdp.send("Network.clearBrowserCache")
        scdp.send("Network.emulateNetworkConditions", DEVTOOLS_SLOW_4G)
        sp.goto(base + "/m/")
        print(f"   same on DevTools' 'Slow 4G' preset (562.5 ms latency, 1.44 Mbps): interactive at "
              f"{ready_ms(sp) / 1000:.2f} s")
        strict.close()
        cdp.send("Network.emulateNetworkConditions", {**SLOW_4G, "latency": 0, "downloadThroughput": -1,
                                                      "uploadThroughput": -1})
        wait_until(page, "navigator.serviceWorker.controller !== null", timeout=30000)
        wait_until(page, "document.body.dataset.sync === 'done'", timeout=60000)

        ctx.set_offline(True)
        times = []
        for _ in range(5):
            page.reload()
            times.append(ready_ms(page))
        times.sort()
        print(f"== repeat load offline (service worker + IndexedDB): median {times[2]:.0f} ms, "
              f"worst {times[-1]:.0f} ms (budget 1000 ms)")

        visit_id = page.evaluate("""async () => {
            const { all } = await import('/static/js/app/db.js');
            return (await all('visit')).find(v => v.data.status === 'in_progress').id; }""")
        sizes = page.evaluate(MAKE_VISIT, [visit_id, 30])
        page.wait_for_timeout(500)  # let the status bar catch up with the last write
        n = page.evaluate("document.getElementById('unsynced').dataset.n")
        print(f"== big visit: 30 findings, 30 photos (mean {sum(sizes) / len(sizes) / 1024:.0f} KB, "
              f"total {sum(sizes) / 1024 / 1024:.1f} MB), {n} unsynced")
        ctx.set_offline(False)
        cdp.send("Network.emulateNetworkConditions", FOUR_G)
        page.evaluate("delete document.body.dataset.sync")
        t0 = time.monotonic()
        page.locator("#sync-now").click()
        wait_until(page, "document.body.dataset.sync === 'done' && document.getElementById('unsynced').dataset.n === '0'",
                   timeout=600000)
        print(f"== sync on 4G (170 ms RTT, 9 Mbps up/down): {time.monotonic() - t0:.1f} s (budget 60 s)")
        browser.close()


if __name__ == "__main__":
    main()
