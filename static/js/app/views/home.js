// The list of the supervisor's visits on this phone, and starting an ad-hoc visit at any site.
import * as store from "../db.js";
import { meta } from "../db.js";
import { save } from "../outbox.js";
import { visitStates } from "../status.js";
import { loadOlder } from "../sync.js";
import { fmtDate, h, label, link, name, navigate, select, t, toast, user, field } from "../ui.js";
import { localDay, visitList } from "./visitlist.js";

// Roles whose phone pulls a window (open work and the recent period, docs/sync-protocol.md "Phone
// scope"); older visits are fetched on demand, online.
const WINDOWED = ["manager", "admin", "dept_head"];

let olderMessage = "";  // the last load's outcome, kept across the re-render it causes

async function olderCard(visits, siteById) {
  const older = visits.filter((v) => v.older && !v.deleted)
    .sort((a, b) => String(b.data.scheduled_for ?? "").localeCompare(String(a.data.scheduled_for ?? "")));
  const next = await meta("older_next");
  const status = h("p", { class: "m-hint", role: "status", "aria-live": "polite" }, olderMessage);
  const button = h("button", { type: "button", class: "m-btn", id: "load-older", onclick: async () => {
    if (!navigator.onLine) {
      status.textContent = olderMessage = t("older_offline");
      // a render begun before this tap would put back the old message: the newest render wins (main.js)
      window.dispatchEvent(new Event("route"));
      return;
    }
    button.disabled = true;
    status.textContent = t("syncing");
    const r = await loadOlder();
    olderMessage = r.offline ? t("older_offline") : !r.ok ? r.message
      : r.count ? t("older_loaded", { n: r.count }) : t("older_none");
    if (!r.ok) toast(olderMessage, "error");
    window.dispatchEvent(new Event("route"));  // show what came
  } }, t("load_older"));
  return h("section", { class: "m-card m-older", "aria-labelledby": "older-head" },
    h("h2", { id: "older-head" }, t("older_title")),
    older.length ? h("ul", { class: "m-list" }, older.map((v) => h("li", {}, link(`/m/visit/${v.id}`, { class: "m-row" },
      h("span", { class: "m-row-title" }, name(siteById.get(v.data.site_id)) || "—"),
      h("span", { class: "m-row-meta" }, v.data.scheduled_for ? fmtDate(v.data.scheduled_for) : ""),
      h("span", { class: "m-badges" }, h("span", { class: `m-badge st-${v.data.status}` }, label("visit_status", v.data.status))))))) : null,
    next?.done ? h("p", { class: "m-hint" }, t("older_none")) : button,
    status);
}

export async function currentTemplate() {
  const templates = (await store.all("template")).filter((r) => !r.deleted);
  return templates.find((r) => r.data.is_current) ?? templates[0];
}

export async function render(root) {
  const [visits, sites] = await Promise.all([store.all("visit"), store.all("site")]);
  const siteById = new Map(sites.map((s) => [s.id, s]));
  const mine = visits.filter((v) => !v.deleted && !v.older && (!v.data.supervisor_id || v.data.supervisor_id === user.id));
  const states = await visitStates(mine.map((v) => v.id));
  const rows = mine.map((v) => ({
    v, site: siteById.get(v.data.site_id), title: name(siteById.get(v.data.site_id)),
    badge: syncBadge(states.get(v.id)),
  }));
  // Before the first sync has finished, an empty list means "not fetched yet", not "no visits".
  const firstSync = !rows.length && !(await meta("last_sync"));
  const empty = firstSync
    ? h("p", { class: "m-empty m-loading", role: "status", "aria-busy": "true" }, 
      t(navigator.onLine && document.body.dataset.sync !== "error" ? "first_sync" : "first_sync_offline"))
    : h("p", { class: "m-empty" }, t("no_visits"));
  // An archived (or deleted) site is offered for no new visit; visits already at one keep showing its name above.
  const offered = sites.filter((s) => !s.deleted && !s.data.archived_at);
  const siteSel = select([["", "—"], ...offered.sort((a, b) => name(a).localeCompare(name(b))).map((s) => [s.id, name(s)])], "", { required: true });
  // Who may start a visit is the server's rule (webapp/authz.py "visit.create"): supervisors for
  // themselves, management for anyone. Others are not offered what could never sync.
  const mayStart = ["supervisor", "manager", "admin"].includes(user.role);
  root.replaceChildren(...[
    h("h1", {}, t("my_visits")),
    ...(rows.length ? visitList(rows, localDay()) : [empty]),
    WINDOWED.includes(user.role) ? await olderCard(visits, siteById) : null,
    !mayStart ? null : h("details", { class: "m-card" },
      h("summary", {}, t("start_adhoc")),
      h("form", { class: "m-form", onsubmit: async (e) => {
        e.preventDefault();
        const site = siteById.get(siteSel.value);
        const tpl = await currentTemplate();
        if (!site || !tpl) return;
        const id = crypto.randomUUID();
        const now = new Date().toISOString();
        await save("visit", id, {
          site_id: site.id, department_id: site.data.department_id, template_id: tpl.id, supervisor_id: user.id,
          status: "in_progress", scheduled_for: now.slice(0, 10), started_at: now, preparation_done: [],
        });
        navigate(`/m/visit/${id}`);
      } }, field(t("choose_site"), siteSel), h("button", { class: "m-btn m-primary", type: "submit" }, t("start")))),
  ].filter(Boolean));
}

export function syncBadge(st) {
  const text = { synced: t("st_synced"), pending: t("st_pending"), rejected: t("st_rejected"), conflict: t("st_conflict") }[st.state];
  return h("span", { class: `m-badge sync-${st.state}` }, text);
}
