// The phone app's service worker (served at /sw.js with Service-Worker-Allowed: /).
// The server fills in VERSION (a hash of every shell file) and SHELL (the URLs to precache).
// It only caches the app shell: data lives in IndexedDB, which an update never touches.
const VERSION = "__VERSION__";
const SHELL = [/*__SHELL__*/];
const CACHE = `supervision-shell-${VERSION}`;
const APP = "/m/";

self.addEventListener("install", (event) => {
  // All or nothing: if one file fails, this version is not installed and the old one keeps serving.
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    for (const url of SHELL) {
      const resp = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
      if (!resp.ok || resp.redirected) throw new Error(`precache ${url}: ${resp.status}`);
      await cache.put(url, resp);
    }
  })());
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "skip-waiting") self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("supervision-") && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

async function fromNetworkWithin(request, ms) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await fetch(request, { signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

async function appShell(request) {
  const cache = await caches.open(CACHE);
  try {
    const resp = await fromNetworkWithin(request, 4000);
    if (resp.ok && !resp.redirected && new URL(request.url).pathname.startsWith(APP)) {
      await cache.put(APP, resp.clone());
    }
    return resp;
  } catch {
    return (await cache.match(APP)) ?? Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === "navigate") {
    // The app's pages: network first (fresh language and user), the cached shell when offline.
    // Other pages: the network, and when it fails the phone app instead of the browser's error page.
    event.respondWith(appShell(req));
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith((async () => (await caches.match(req, { cacheName: CACHE, ignoreSearch: true })) ?? fetch(req))());
  }
});
