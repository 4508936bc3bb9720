// The list of the supervisor's visits on this phone, and starting an ad-hoc visit at any site.
import * as store from "../db.js";
import { meta } from "../db.js";
import { save } from "../outbox.js";
import { visitState } from "../status.js";
import { h, name, navigate, select, t, user, field } from "../ui.js";
import { localDay, visitList } from "./visitlist.js";

export async function currentTemplate() {
  const templates = (await store.all("template")).filter((r) => !r.deleted);
  return templates.find((r) => r.data.is_current) ?? templates[0];
}

export async function render(root) {
  const [visits, sites] = await Promise.all([store.all("visit"), store.all("site")]);
  const siteById = new Map(sites.map((s) => [s.id, s]));
  const mine = visits.filter((v) => !v.deleted && (!v.data.supervisor_id || v.data.supervisor_id === user.id));
  const rows = await Promise.all(mine.map(async (v) => ({
    v, site: siteById.get(v.data.site_id), title: name(siteById.get(v.data.site_id)),
    badge: syncBadge(await visitState(await store.forVisit(v.id))),
  })));
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
