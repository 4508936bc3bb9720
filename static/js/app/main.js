// The phone app: routes /m/..., keeps the status bar (online/offline, "N unsynced") current,
// syncs on open, on `online`, when the tab becomes visible, every minute while open, a few seconds
// after each change the user saves while online, and on demand.
import { meta } from "./db.js";
import { unsyncedCount } from "./status.js";
import { exportUnsynced, syncNow, isSyncing } from "./sync.js";
import { fmtTime, h, t, toast, user } from "./ui.js";
import * as home from "./views/home.js";
import * as visit from "./views/visit.js";
import * as finding from "./views/finding.js";
import * as rectification from "./views/rectification.js";

const root = document.getElementById("app");
const SYNC_EVERY_MS = 60_000;
// A saved change goes out this long after it was saved (while online), with whatever else was saved
// meanwhile: a run of answer taps is one sync, and a manager sees the finding seconds later.
const SYNC_AFTER_SAVE_MS = 3_000;

// Each render builds off-screen and is shown only if no newer render started meanwhile, so a slow
// render from before a sync can never overwrite a newer one.
let generation = 0;
let stale = false;
// A finger (or mouse button) that is down: a refresh landing between press and release would swap
// the button under it and the tap would be lost, so background refreshes wait for the release.
let pressing = false;
const typing = () => {
  if (pressing) return true;
  const a = document.activeElement;
  return a && root.contains(a) && (a.tagName === "TEXTAREA" || a.tagName === "SELECT"
    || (a.tagName === "INPUT" && !["file", "checkbox", "radio", "button", "submit"].includes(a.type)));
};

async function route(force = true) {
  const mine = ++generation;
  const target = document.createElement("div");
  const url = new URL(location.href);
  const parts = url.pathname.replace(/^\/m\/?/, "").split("/").filter(Boolean);
  try {
    if (parts[0] === "visit" && parts[1]) await visit.render(target, parts[1], parts[2]);
    else if (parts[0] === "finding" && parts[1]) await finding.render(target, parts[1], url.searchParams);
    else if (parts[0] === "rect" && parts[1]) await rectification.render(target, parts[1]);
    else if (user.role === "dept_head") await rectification.renderList(target);
    else await home.render(target);
  } catch (e) {
    target.replaceChildren(h("p", { class: "m-warn", role: "alert" }, e.message));
    console.error(e);
  }
  if (mine !== generation) return;
  // A background refresh never replaces the field the user is typing in; it runs when they leave it.
  if (!force && typing()) { stale = true; return; }
  stale = false;
  root.replaceChildren(...target.childNodes);
  root.querySelector(".m-tab[aria-current]")?.scrollIntoView({ inline: "center", block: "nearest" });
  root.querySelector("[data-autofocus]")?.focus();
  if (!document.body.dataset.ready) performance.mark("app-ready");
  document.body.dataset.ready = "1";
}

let routeTimer;
function rerouteSoon() {
  clearTimeout(routeTimer);
  routeTimer = setTimeout(() => { if (typing()) stale = true; else route(false); }, 50);
}
root.addEventListener("focusout", () => { if (stale) rerouteSoon(); });
root.addEventListener("pointerdown", () => { pressing = true; }, true);
for (const type of ["pointerup", "pointercancel"]) {
  window.addEventListener(type, () => { pressing = false; if (stale) rerouteSoon(); }, true);
}

async function refreshStatus() {
  const online = navigator.onLine;
  const net = document.getElementById("net");
  net.textContent = online ? t("online") : t("offline");
  net.className = `m-net ${online ? "is-online" : "is-offline"}`;
  const [n, last] = await Promise.all([unsyncedCount(), meta("last_sync")]);
  const count = document.getElementById("unsynced");
  // "All synced" only once a sync has finished: before the first one, the phone cannot know.
  count.textContent = n ? t("unsynced", { n }) : last ? t("all_synced") : document.body.dataset.sync === "syncing" ? t("syncing") : "";
  count.dataset.n = n;
  count.className = `m-count${n ? " has-unsynced" : ""}`;
  document.getElementById("last-sync").textContent = last ? t("last_sync", { time: fmtTime(last) }) : t("never_synced");
  document.getElementById("sync-now").disabled = !online || isSyncing();
}

function banner(id, text, action, dismissible = false) {
  document.getElementById(id)?.remove();
  const box = h("div", { class: "m-banner", id, role: "status" }, h("span", {}, text), action ?? null,
    dismissible ? h("button", { type: "button", class: "m-btn m-dismiss", "aria-label": t("dismiss"), onclick: () => box.remove() }, "×") : null);
  document.getElementById("banners").append(box);
  return box;
}

// The sign-in no longer counts (account disabled, sign-in expired, device signed out): say why, in
// words from the server where it gave them; everything unsynced stays in IndexedDB, and can be
// exported to a file for an administrator to import.
async function signedOut(r) {
  const n = await unsyncedCount();
  const disabled = r.code === "account_disabled";
  const text = r.message || t("signed_out");
  const actions = h("div", { class: "m-banner-actions" },
    n ? h("button", { type: "button", class: "m-btn m-primary", id: "auth-export", onclick: exportFile }, t("export_unsynced", { n })) : null,
    disabled ? null : h("a", { class: "m-btn", href: "/login?next=/m/" }, t("sign_in")));
  const box = banner("b-auth", text, actions);
  box.setAttribute("role", "alert");
  box.classList.add("m-banner-auth");
  box.dataset.code = r.code ?? "";
  document.body.dataset.auth = r.code ?? "signed-out";
}

async function exportFile() {
  const blob = await exportUnsynced();
  if (!blob) { toast(t("nothing_to_export")); return; }
  const a = h("a", { href: URL.createObjectURL(blob), download: `unsynced-${user.username}-${new Date().toISOString().slice(0, 19).replaceAll(":", "")}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  toast(t("exported"));
}

async function sync() {
  const r = await syncNow();
  if (r?.state === "signed-out") {
    await signedOut(r);
  } else if (r?.state === "error") {
    banner("b-sync", t("sync_failed", { msg: r.message }));
  } else if (r?.ok) {
    rectification.refresh();
    document.getElementById("b-sync")?.remove();
    document.getElementById("b-auth")?.remove();
    delete document.body.dataset.auth;
  }
  return r;
}

window.addEventListener("sync-state", (e) => {
  document.body.dataset.sync = e.detail.state;
  refreshStatus();
});
window.addEventListener("store-changed", () => { refreshStatus(); if (!isSyncing()) return; rerouteSoon(); });
window.addEventListener("sync-state", (e) => { if (e.detail.state === "done") rerouteSoon(); });
window.addEventListener("route", () => route(true));
window.addEventListener("rect-feed", rerouteSoon);
window.addEventListener("popstate", () => route(true));
let saveTimer = null;
window.addEventListener("outbox-queued", () => {
  // Offline, the `online` event sends it; signed out, nothing can be sent until the user signs in.
  if (saveTimer !== null || !navigator.onLine || document.body.dataset.auth) return;
  saveTimer = setTimeout(async () => {
    saveTimer = null;
    // A sync under way may have pushed before this change was saved: the next one starts after it.
    if (isSyncing()) await syncNow();
    if (navigator.onLine) sync();
  }, SYNC_AFTER_SAVE_MS);
});
window.addEventListener("online", () => { refreshStatus(); sync(); });
window.addEventListener("offline", refreshStatus);
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") sync(); });
setInterval(() => { if (document.visibilityState === "visible") sync(); }, SYNC_EVERY_MS);
document.getElementById("sync-now").addEventListener("click", async () => {
  const r = await sync();
  if (r?.offline) toast(t("offline"), "error");
});

document.getElementById("export").addEventListener("click", exportFile);

// Signing out with unsynced items would strand them: blocked, with the reason.
document.getElementById("logout").addEventListener("submit", async (e) => {
  e.preventDefault();
  const n = await unsyncedCount();
  if (n > 0) {
    banner("b-logout", t("logout_blocked", { n }));
    document.getElementById("b-logout").setAttribute("role", "alert");
    return;
  }
  e.target.submit();
});

async function checkStorage() {
  if (!navigator.storage) return;
  try {
    const persisted = (await navigator.storage.persisted?.()) || (await navigator.storage.persist?.());
    if (!persisted && !(await meta("persist_warned"))) {
      banner("b-persist", t("storage_refused"), null, true).addEventListener("click", (e) => {
        if (e.target.closest(".m-dismiss")) meta("persist_warned", true);
      });
    }
    const { usage = 0, quota = 0 } = (await navigator.storage.estimate?.()) ?? {};
    if (quota && usage / quota > 0.85) banner("b-full", t("storage_full", { pct: Math.round((100 * usage) / quota) }));
  } catch { /* not supported: nothing to warn about */ }
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  const reg = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  const offer = (worker) => {
    banner("b-update", t("update_ready"), h("button", { type: "button", class: "m-btn m-primary", id: "update-now", onclick: () => {
      worker.postMessage({ type: "skip-waiting" });
    } }, t("update_now")));
  };
  if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
  reg.addEventListener("updatefound", () => {
    const w = reg.installing;
    w?.addEventListener("statechange", () => {
      if (w.state === "installed" && navigator.serviceWorker.controller) offer(w);
    });
  });
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloading || !document.getElementById("b-update")) return;
    reloading = true;
    location.reload();
  });
  window.addEventListener("server-version", (e) => {
    if (e.detail !== document.body.dataset.version) reg.update().catch(() => {});
  });
}

await route();
await refreshStatus();
registerWorker().catch((e) => console.warn("service worker", e));
checkStorage();
sync();
