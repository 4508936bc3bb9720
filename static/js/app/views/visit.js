// The on-site visit workspace (policy 三(二)): preparation, opening meeting, inspection against the
// checklist by area, data collection, interviews, findings, completion with the score by area.
import * as store from "../db.js";
import { remove, save } from "../outbox.js";
import { forgetIfUnused, prepare } from "../photos.js";
import { AREAS } from "../score.js";
import { field, fmtDate, h, itemTitle, label, link, name, navigate, select, t, toast, enumCodes, fmtTime } from "../ui.js";
import { changed, visitState } from "../status.js";
import { answerWidget, itemInfo, shownIds } from "./answers.js";
import { checkinCard } from "./checkin.js";
import { signatureCard } from "./signature.js";
import { completeSection } from "./complete.js";
import { syncBadge } from "./home.js";
import { photoStrip, reviewBadge, stateLine } from "./widgets.js";

const SECTIONS = ["prep", "meeting", "checklist", "data", "interviews", "findings", "complete"];
const PREP_STEPS = ["previous", "documents", "notified", "checklist", "equipment"];

const localInput = (iso) => {
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};
const fromLocal = (v) => (v ? new Date(v).toISOString() : null);

async function context(visitId) {
  const visit = await store.get("visit", visitId);
  if (!visit) return null;
  const [site, template, rows] = await Promise.all([
    store.get("site", visit.data.site_id), store.get("template", visit.data.template_id), store.forVisit(visitId),
  ]);
  const of = (e) => rows.filter((r) => r.entity === e && !r.deleted);
  const answers = new Map(of("checklist_answer").map((a) => [a.data.item_id, a]));
  return { visit, site, template, all: rows.filter((r) => r.entity !== "visit"), items: template?.data.items ?? [], answers, meeting: of("meeting")[0],
    metrics: of("metric"), interviews: of("interview"), findings: of("finding") };
}

export async function render(root, visitId, section = "checklist") {
  const ctx = await context(visitId);
  if (!ctx) { root.replaceChildren(h("p", { class: "m-empty" }, t("empty")), link("/m/", { class: "m-btn" }, t("back"))); return; }
  if (!SECTIONS.includes(section)) section = "checklist";
  const { visit } = ctx;
  const tabs = h("nav", { class: "m-tabs", "aria-label": t("app_title") }, SECTIONS.map((s) =>
    link(`/m/visit/${visitId}/${s}`, { class: "m-tab", "aria-current": s === section ? "page" : null }, t(`sec_${s}`))));
  const head = h("div", { class: "m-visit-head" },
    link("/m/", { class: "m-back" }, h("span", { "aria-hidden": "true" }, "‹ "), t("visits")),
    h("h1", {}, name(ctx.site)),
    h("p", { class: "m-row-meta" }, fmtDate(visit.data.scheduled_for), " · ",
      h("span", { class: `m-badge st-${visit.data.status}` }, label("visit_status", visit.data.status))),
    h("p", { class: "m-row-meta m-visit-sync", "data-visit": visitId }, syncBadge(await visitState([visit, ...ctx.all]))));
  const own = await stateLine(visit);
  if (own.matches(".m-state-rejected, .m-state-conflict")) head.append(own);
  if (visit.data.status === "scheduled") {
    head.append(h("button", { type: "button", class: "m-btn m-primary", onclick: async () => {
      await save("visit", visitId, { status: "in_progress", started_at: new Date().toISOString() });
      rerender();
    } }, t("start_visit")));
  }
  head.append(await checkinCard(visit, ctx.site));
  const body = h("section", { class: "m-section", "aria-label": t(`sec_${section}`) });
  root.replaceChildren(head, tabs, body);
  await SECTION_VIEWS[section](body, ctx);
}

const rerender = () => window.dispatchEvent(new Event("route"));

// Every local save (and every sync step) updates the open visit's sync badge and answered counts at
// once, without re-rendering the tab (which would lose the user's place and focus).
let refreshing = null;
window.addEventListener("store-changed", () => { refreshing ??= refreshLive().finally(() => { refreshing = null; }); });
async function refreshLive() {
  const holder = document.querySelector(".m-visit-sync[data-visit]");
  if (!holder) return;
  const visitId = holder.dataset.visit;
  const [rows, visit] = await Promise.all([store.forVisit(visitId), store.get("visit", visitId)]);
  if (!visit) return;
  holder.replaceChildren(syncBadge(await visitState(rows)));
  const items = (await store.get("template", visit.data.template_id))?.data.items ?? [];
  const answers = new Map(rows.filter((r) => r.entity === "checklist_answer" && !r.deleted).map((r) => [r.data.item_id, r]));
  const answered = new Set([...answers].filter(([, r]) => r.data.result).map(([id]) => id));
  // Conditional items not shown (docs/checklists.md) are not counted.
  const shown = shownIds(items, answers);
  const asked = items.filter((i) => shown.has(i.id));
  const progress = document.querySelector(".m-progress");
  if (progress) progress.textContent = t("answered", { done: asked.filter((i) => answered.has(i.id)).length, total: asked.length });
  for (const el of document.querySelectorAll("[data-area]")) {
    const mine = asked.filter((i) => i.area === el.dataset.area);
    el.textContent = `${mine.filter((i) => answered.has(i.id)).length}/${mine.length}`;
  }
}

// The add form of a list section, which also edits a row: edit(id) switches it to that record
// (the caller has filled the controls), Save writes it, Cancel goes back to adding.
function editableForm(write, controls) {
  let editing = null;
  const submit = h("button", { class: "m-btn m-primary", type: "submit" }, t("add"));
  const cancel = h("button", { class: "m-btn", type: "button", hidden: true, onclick: () => { form.reset(); setMode(null); } }, t("cancel"));
  const setMode = (id) => { editing = id; submit.textContent = t(id ? "save" : "add"); cancel.hidden = !id; };
  const form = h("form", { class: "m-form m-card", onsubmit: async (e) => {
    e.preventDefault();
    await write(editing ?? crypto.randomUUID(), !!editing);
    toast(t("saved_locally"));
    rerender();
  } }, ...controls, h("div", { class: "m-actions" }, submit, cancel));
  form.edit = (id) => { setMode(id); form.scrollIntoView({ block: "start" }); controls[0].querySelector("input, select, textarea")?.focus(); };
  return form;
}

function rowActions(entity, rec, title, onEdit) {
  return h("span", { class: "m-actions" },
    h("button", { type: "button", class: "m-btn m-small", onclick: onEdit }, t("edit")),
    h("button", { type: "button", class: "m-btn m-small m-danger", onclick: async () => {
      if (!window.confirm(t("confirm_delete", { name: title || "—" }))) return;
      const { sent } = await remove(entity, rec.id);
      toast(t(sent ? "deleted_locally" : "deleted_unsent"));
      rerender();
    } }, t("delete_record")));
}

const SECTION_VIEWS = {
  async prep(body, { visit }) {
    const done = new Set(visit.data.preparation_done ?? []);
    body.append(h("h2", {}, t("sec_prep")), h("ul", { class: "m-checks" }, PREP_STEPS.map((step) =>
      h("li", {}, h("label", { class: "m-check" },
        h("input", { type: "checkbox", checked: done.has(step), onchange: async (e) => {
          const now = new Set((await store.get("visit", visit.id)).data.preparation_done ?? []);
          e.target.checked ? now.add(step) : now.delete(step);
          await save("visit", visit.id, { preparation_done: [...now].sort() });
        } }), h("span", {}, t(`prep_${step}`)))))),
    field(t("prep_notes"), h("textarea", { rows: 4, value: visit.data.preparation_notes ?? "",
      onchange: (e) => save("visit", visit.id, { preparation_notes: e.target.value }) })));
  },

  async meeting(body, { visit, meeting }) {
    const id = meeting?.id ?? crypto.randomUUID();
    const d = meeting?.data ?? {};
    const put = (changes) => save("meeting", id, meeting ? changes : { visit_id: visit.id, ...changes })
      .then((rec) => { meeting = rec; });
    body.append(h("h2", {}, t("sec_meeting")), await stateLine(meeting),
      field(t("held_at"), h("input", { type: "datetime-local", value: localInput(d.held_at),
        onchange: (e) => put({ held_at: fromLocal(e.target.value) }) })),
      field(t("attendees"), h("textarea", { rows: 4, value: (d.attendees ?? []).join("\n"),
        onchange: (e) => put({ attendees: [...new Set(e.target.value.split(/[\n,，、]/).map((s) => s.trim()).filter(Boolean))].sort() }) })),
      field(t("meeting_notes"), h("textarea", { rows: 4, value: d.notes ?? "", onchange: (e) => put({ notes: e.target.value }) })),
      field(t("department_report"), h("textarea", { rows: 4, value: d.department_report ?? "",
        onchange: (e) => put({ department_report: e.target.value }) })),
      signatureCard(visit, "opening_signature", "signature_opening"));
  },

  async checklist(body, ctx) {
    const { items, answers } = ctx;
    // Conditional items (docs/checklists.md) show only when their earlier item has the given
    // answer: every card sits in a slot, and the slots are shown or hidden after each answer.
    const slots = new Map();
    const progress = h("p", { class: "m-progress", "aria-live": "polite" });
    const counts = [];
    ctx.refresh = () => {
      const shown = shownIds(items, answers);
      for (const [id, slot] of slots) slot.hidden = !shown.has(id);
      const mine = items.filter((i) => shown.has(i.id));
      progress.textContent = t("answered", { done: mine.filter((i) => answers.get(i.id)?.data.result).length, total: mine.length });
      for (const [area, el] of counts) {
        const inArea = mine.filter((i) => i.area === area);
        el.textContent = `${inArea.filter((i) => answers.get(i.id)?.data.result).length}/${inArea.length}`;
      }
    };
    body.append(progress);
    for (const area of AREAS) {
      const mine = items.filter((i) => i.area === area);
      if (!mine.length) continue;
      const count = h("span", { class: "m-count-small", "data-area": area });
      counts.push([area, count]);
      const group = h("details", { class: "m-area", open: true },
        h("summary", {}, h("span", {}, label("area", area)), count));
      for (const item of mine) {
        const slot = h("div", { class: "m-item-slot" }, await itemCard(ctx, item));
        slots.set(item.id, slot);
        group.append(slot);
      }
      body.append(group);
    }
    ctx.refresh();
  },

  async data(body, { visit, metrics }) {
    body.append(h("h2", {}, t("sec_data")));
    const kind = select(enumCodes("metric_kind").map((k) => [k, label("metric_kind", k)]), "business", { name: "kind" });
    const nm = h("input", { name: "name", required: true, maxlength: 120 });
    const val = h("input", { name: "value", type: "number", step: "any", inputmode: "decimal" });
    const unit = h("input", { name: "unit", maxlength: 20 });
    const note = h("input", { name: "note" });
    const form = editableForm((id) => save("metric", id, { visit_id: visit.id, kind: kind.value, name: nm.value.trim(),
      value: val.value === "" ? null : Number(val.value), unit: unit.value.trim() || null, note: note.value.trim() || null }),
    [field(t("kind"), kind), field(t("name"), nm), h("div", { class: "m-two" }, field(t("value"), val), field(t("unit"), unit)),
      field(t("note"), note)]);
    const fill = (m) => { kind.value = m.data.kind; nm.value = m.data.name ?? ""; val.value = m.data.value ?? "";
      unit.value = m.data.unit ?? ""; note.value = m.data.note ?? ""; };
    for (const k of enumCodes("metric_kind")) {
      const rows = metrics.filter((m) => m.data.kind === k);
      body.append(h("h3", {}, label("metric_kind", k)), rows.length
        ? h("ul", { class: "m-list" }, await Promise.all(rows.map(async (m) => h("li", { class: "m-row" },
          h("span", { class: "m-row-title" }, m.data.name), h("span", {}, `${m.data.value ?? ""} ${m.data.unit ?? ""}`),
          m.data.note ? h("span", { class: "m-row-meta" }, m.data.note) : null, await stateLine(m),
          rowActions("metric", m, m.data.name, () => { fill(m); form.edit(m.id); })))))
        : h("p", { class: "m-empty" }, t("empty")));
    }
    body.append(form);
  },

  async interviews(body, { visit, interviews }) {
    body.append(h("h2", {}, t("sec_interviews")));
    const who = h("input", { name: "interviewee", required: true, maxlength: 80 });
    const pos = h("input", { name: "position", maxlength: 80 });
    const notes = h("textarea", { name: "notes", rows: 4 });
    const sugg = h("textarea", { name: "suggestions", rows: 3 });
    const form = editableForm((id, editing) => save("interview", id, { visit_id: visit.id, interviewee: who.value.trim(),
      position: pos.value.trim() || null, notes: notes.value, suggestions: sugg.value,
      ...(editing ? {} : { interviewed_at: new Date().toISOString() }) }),
    [field(t("interviewee"), who), field(t("position"), pos), field(t("interview_notes"), notes), field(t("suggestions"), sugg)]);
    const fill = (iv) => { who.value = iv.data.interviewee ?? ""; pos.value = iv.data.position ?? "";
      notes.value = iv.data.notes ?? ""; sugg.value = iv.data.suggestions ?? ""; };
    body.append(interviews.length ? h("ul", { class: "m-list" }, await Promise.all(interviews.map(async (iv) => h("li", { class: "m-row" },
      h("span", { class: "m-row-title" }, iv.data.interviewee, iv.data.position ? ` · ${iv.data.position}` : ""),
      h("span", { class: "m-row-meta" }, fmtTime(iv.data.interviewed_at)),
      iv.data.notes ? h("p", {}, iv.data.notes) : null, iv.data.suggestions ? h("p", { class: "m-hint" }, iv.data.suggestions) : null,
      await stateLine(iv), rowActions("interview", iv, iv.data.interviewee, () => { fill(iv); form.edit(iv.id); }))))) : h("p", { class: "m-empty" }, t("empty")));
    body.append(form);
  },

  async findings(body, { visit, findings }) {
    body.append(h("h2", {}, t("sec_findings")),
      h("button", { type: "button", class: "m-btn m-primary m-wide", onclick: () => navigate(`/m/finding/${crypto.randomUUID()}?visit=${visit.id}`) }, t("new_finding")));
    findings.sort((a, b) => String(a.data.captured_at).localeCompare(String(b.data.captured_at)));
    body.append(findings.length ? h("ul", { class: "m-list" }, await Promise.all(findings.map(async (f) => h("li", {},
      link(`/m/finding/${f.id}`, { class: "m-row" },
        h("span", { class: "m-row-title" }, f.data.title || "—"),
        h("span", { class: "m-row-meta" }, label("area", f.data.area), " · ", fmtTime(f.data.captured_at), " · ", t("photos"), " ", (f.data.photos ?? []).length),
        h("span", { class: "m-badges" }, h("span", { class: `m-badge sev-${f.data.severity}` }, label("severity", f.data.severity)),
          reviewBadge(f), (await stateLine(f)).firstChild)),
      f.data.review_status === "rejected" && f.data.review_reason
        ? h("p", { class: "m-review-reason m-review-inline" }, t("review_reason", { reason: f.data.review_reason })) : null)))) : h("p", { class: "m-empty" }, t("empty")));
  },

  complete: completeSection,
};

async function itemCard(ctx, item) {
  const { visit, answers, findings } = ctx;
  const ans = answers.get(item.id);
  const a = ans?.data ?? {};
  const id = ans?.id ?? crypto.randomUUID();
  const put = async (changes, opts) => {
    const rec = await save("checklist_answer", id, ans ? changes : { visit_id: visit.id, item_id: item.id, photos: [], ...changes }, opts);
    answers.set(item.id, rec);
    card.replaceWith(await itemCard(ctx, item));
    ctx.refresh?.();
  };
  const photos = a.photos ?? [];
  const needPhoto = a.result === "fail" && item.photo_required_on_fail && !photos.length;
  const linked = findings.find((f) => f.data.item_id === item.id);
  const card = h("article", { class: `m-item res-${a.result ?? "none"}`, id: `item-${item.id}` },
    h("h3", {}, item.code ? h("span", { class: "m-code" }, item.code) : null, " ", itemTitle(item)),
    lastResult(ctx.visit, item),
    ...itemInfo(item), ...answerWidget(item, a, put));
  if (a.result) {
    card.append(field(t("note"), h("input", { value: a.note ?? "", onchange: (e) => put({ note: e.target.value }) })));
    card.append(photoStrip(photos, {
      required: needPhoto,
      onAdd: (ps) => put({ photos: [...new Set([...photos, ...ps.map((p) => p.sha256)])].sort() }, { photos: ps }),
      onRemove: async (sha) => { await put({ photos: photos.filter((x) => x !== sha) }); await forgetIfUnused(sha); },
    }));
    if (a.result === "fail") {
      // The finding form opens with the area, item, photos and note carried over; the title is the
      // supervisor's (typed, or one of the item's common problems), not the item's name.
      card.append(linked
        ? link(`/m/finding/${linked.id}`, { class: "m-btn" }, t("open_finding"))
        : h("button", { type: "button", class: "m-btn m-primary", onclick: () => navigate(findingUrl(visit, item, photos, a.note)) },
          t("create_finding")));
    }
    // The answer's own sync state while it is not synced (the visit's badge above sums them up).
    const st = ans && await stateLine(ans);
    if (st && !st.matches(".m-state-synced")) card.append(st);
  }
  card.append(photoFirst(visit, item));
  return card;
}

const findingUrl = (visit, item, photos = [], note = null) => {
  const q = new URLSearchParams({ visit: visit.id, item: item.id });
  if (photos.length) q.set("photos", photos.join(","));
  if (note) q.set("note", note);
  return `/m/finding/${crypto.randomUUID()}?${q}`;
};

// Photo-first: the camera opens at once; the finding form follows with the photo, area and item.
function photoFirst(visit, item) {
  const input = h("input", { type: "file", accept: "image/*", capture: "environment", class: "m-file" });
  input.addEventListener("change", async () => {
    const files = [...input.files];
    input.value = "";
    const shas = [];
    for (const f of files) {
      try {
        const p = await prepare(f);
        await (await store.db()).put("photos", p);
        shas.push(p.sha256);
        changed();
      } catch (e) { toast(e.message, "error"); }
    }
    if (shas.length) navigate(findingUrl(visit, item, shas));
  });
  return h("label", { class: "m-btn m-photo-first" }, input, h("span", {}, t("photo_finding")));
}

// The previous visit's result and note for this item (computed by the server into the pulled visit).
function lastResult(visit, item) {
  const prev = visit.data.previous;
  const r = prev?.results?.[item.code];
  if (!r) return null;
  return h("p", { class: `m-last m-last-${r.result}` }, t("last_visit", { date: fmtDate(prev.date) }), t("colon"),
    h("strong", {}, label("result", r.result)), r.note ? ` · ${r.note}` : "");
}
