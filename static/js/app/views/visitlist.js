// The visit list, grouped (today and in progress, overdue, upcoming, recently done) with a search by
// site or plan. Long groups show their first rows and "Show N more"; the search shows every match.
// The search text and what was expanded survive the re-render a finished sync causes.
import { fmtDate, h, label, link, t } from "../ui.js";

const GROUPS = ["today", "overdue", "upcoming", "done"];
const FIRST = { today: Infinity, overdue: 5, upcoming: 8, done: 5 };
const state = { query: "", shown: {} };

export const localDay = (d = new Date()) =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;

// Which group a visit is in, as of `today` (the phone's own day, YYYY-MM-DD).
export function groupOf(v, today) {
  const { status, scheduled_for: day, due_by: due } = v.data;
  if (status === "completed") return "done";
  if (status === "in_progress" || day === today) return "today";
  if ((due ?? day) && (due ?? day) < today) return "overdue";
  if (day && day < today) return "today"; // planned earlier, still due later: work for now
  return "upcoming";
}

const ORDER = {
  today: (a, b) => (a.v.data.status === "in_progress" ? 0 : 1) - (b.v.data.status === "in_progress" ? 0 : 1)
    || String(a.v.data.scheduled_for ?? "").localeCompare(String(b.v.data.scheduled_for ?? "")),
  overdue: (a, b) => String(b.v.data.scheduled_for ?? "").localeCompare(String(a.v.data.scheduled_for ?? "")),
  upcoming: (a, b) => String(a.v.data.scheduled_for ?? "9").localeCompare(String(b.v.data.scheduled_for ?? "9")),
  done: (a, b) => String(b.v.data.completed_at ?? b.v.data.scheduled_for ?? "")
    .localeCompare(String(a.v.data.completed_at ?? a.v.data.scheduled_for ?? "")),
};

// rows: [{v, site, title, badge}] — badge is the visit's sync badge element.
export function visitList(rows, today) {
  const groups = Object.fromEntries(GROUPS.map((g) => [g, []]));
  for (const r of rows) {
    r.text = [r.title, r.site?.data.name, r.site?.data.name_en, r.site?.data.code, r.v.data.plan_title]
      .filter(Boolean).join(" ").toLowerCase();
    r.el = h("li", { "data-group": groupOf(r.v, today) }, link(`/m/visit/${r.v.id}`, { class: "m-row" },
      h("span", { class: "m-row-title" }, r.title || "—"),
      h("span", { class: "m-row-meta" }, r.v.data.status === "completed" && r.v.data.completed_at
        ? fmtDate(r.v.data.completed_at) : (r.v.data.scheduled_for ? t("scheduled_for", { date: fmtDate(r.v.data.scheduled_for) }) : ""),
      r.v.data.plan_title ? ` · ${r.v.data.plan_title}` : ""),
      h("span", { class: "m-badges" },
        h("span", { class: `m-badge st-${r.v.data.status}` }, label("visit_status", r.v.data.status)), r.badge)));
    groups[r.el.dataset.group].push(r);
  }
  for (const g of GROUPS) groups[g].sort(ORDER[g]);
  const box = h("div", { class: "m-groups" });
  const search = h("input", { type: "search", id: "visit-search", value: state.query, autocomplete: "off",
    placeholder: t("search_visits"), "aria-label": t("search_visits"), oninput: () => { state.query = search.value; draw(); } });
  const draw = () => {
    const q = state.query.trim().toLowerCase();
    const parts = [];
    for (const g of GROUPS) {
      const matches = groups[g].filter((r) => !q || r.text.includes(q));
      if (!matches.length) continue;
      const limit = q ? Infinity : (state.shown[g] ?? FIRST[g]);
      const more = matches.length - Math.min(limit, matches.length);
      parts.push(h("section", { class: `m-group m-group-${g}`, "aria-labelledby": `grp-${g}` },
        h("h2", { id: `grp-${g}`, class: "m-group-head" }, t(`grp_${g}`), " ", h("span", { class: "m-count-small" }, matches.length)),
        h("ul", { class: "m-list" }, matches.slice(0, limit).map((r) => r.el)),
        more ? h("button", { type: "button", class: "m-btn m-more", onclick: () => {
          state.shown[g] = (state.shown[g] ?? FIRST[g]) + Math.max(FIRST[g], 5);
          draw();
        } }, t("show_more", { n: Math.min(more, Math.max(FIRST[g], 5)) })) : null));
    }
    if (!parts.length) parts.push(h("p", { class: "m-empty", role: "status" }, t("no_match", { q: state.query.trim() })));
    box.replaceChildren(...parts);
  };
  draw();
  return [h("div", { class: "m-field m-search" }, search), box];
}
