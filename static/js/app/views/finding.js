// A finding (问题) editor: title, manifestation, impact, area and item, severity, responsible
// department and person, photos, time, optional GPS. Every change is saved on the phone at once.
import * as store from "../db.js";
import { save } from "../outbox.js";
import { forgetIfUnused, src } from "../photos.js";
import { markupEditor } from "../sketch.js";
import { enumCodes, field, h, itemTitle, label, link, name, navigate, select, t, toast } from "../ui.js";
import { personSelect } from "./people.js";
import { photoStrip, reviewNote, stateLine } from "./widgets.js";

const FIELD_KEYS = { title: "title", description: "description", impact: "impact", area: "area", item_id: "item",
  severity: "severity", department_id: "department", responsible_person: "responsible_person", photos: "photos" };

export async function render(root, findingId, params) {
  let rec = await store.get("finding", findingId);
  const visitId = rec?.data.visit_id ?? params.get("visit");
  const visit = visitId && await store.get("visit", visitId);
  if (!visit) { root.replaceChildren(h("p", { class: "m-empty" }, t("empty")), link("/m/", { class: "m-btn" }, t("back"))); return; }
  const [template, departments, site] = await Promise.all([store.get("template", visit.data.template_id), store.all("department"),
    store.get("site", visit.data.site_id)]);
  const items = template?.data.items ?? [];
  // Opened from a checklist item (photo first, or a failed item): area, item, photos and note come along.
  const from = !rec && items.find((i) => i.id === params.get("item"));
  const carried = !rec ? (params.get("photos") ?? "").split(",").filter((x) => /^[0-9a-f]{64}$/.test(x)) : [];
  const d = rec?.data ?? (from ? { item_id: from.id, area: from.area, photos: carried, description: params.get("note") || null } : {});
  const defaults = () => ({
    visit_id: visit.id, site_id: visit.data.site_id, severity: "medium", status: "open", photos: [],
    department_id: visit.data.department_id, captured_at: new Date().toISOString(),
    ...(from ? { item_id: from.id, area: from.area, photos: carried, description: params.get("note") || null } : {}),
  });
  const put = async (changes, opts) => {
    rec = await save("finding", findingId, rec ? changes : { ...defaults(), ...changes }, opts);
    status.replaceChildren(await stateLine(rec, (f) => t(FIELD_KEYS[f] ?? f)) ?? "");
  };
  const status = h("div", {}, await stateLine(rec, (f) => t(FIELD_KEYS[f] ?? f)) ?? "");
  const problems = (items.find((i) => i.id === d.item_id)?.common_problems ?? []).filter(Boolean);
  const title = h("input", { value: d.title ?? "", required: true, maxlength: 200, "data-autofocus": rec || problems.length ? null : "1",
    onchange: (e) => put({ title: e.target.value.trim() }) });
  const chips = problems.length ? h("div", { class: "m-field" }, h("span", { class: "m-photo-label", id: "problems-label" }, t("common_problems")),
    h("div", { class: "m-chips", role: "group", "aria-labelledby": "problems-label" }, problems.map((p) =>
      h("button", { type: "button", class: "m-chip", "aria-pressed": String(d.title === p), onclick: async (e) => {
        title.value = p;
        for (const b of e.target.parentNode.children) b.setAttribute("aria-pressed", String(b === e.target));
        await put({ title: p });
      } }, p))),
    h("p", { class: "m-hint" }, t("pick_problem"))) : null;
  const personBox = h("div");
  const drawPerson = async (dept) => {
    const sel = await personSelect(site, dept, rec?.data.responsible_person ?? d.responsible_person,
      (e) => put({ responsible_person: e.target.value || null }));
    personBox.replaceChildren(field(t("responsible_person"), sel));
  };
  await drawPerson(d.department_id ?? visit.data.department_id);
  const photosBox = h("div");
  const drawPhotos = () => {
    const photos = rec?.data.photos ?? d.photos ?? [];
    const marked = rec?.data.markup ?? {};
    const without = (sha) => Object.fromEntries(Object.entries(marked).filter(([k]) => k !== sha));
    photosBox.replaceChildren(photoStrip(photos, {
      marked,
      onAdd: async (ps) => { await put({ photos: [...new Set([...photos, ...ps.map((p) => p.sha256)])].sort() }, { photos: ps }); drawPhotos(); },
      onRemove: async (sha) => {
        await put({ photos: photos.filter((x) => x !== sha), ...(marked[sha] ? { markup: without(sha) } : {}) });
        await forgetIfUnused(sha); drawPhotos();
      },
      // Markup: a vector overlay beside the untouched photo (docs/photo-evidence.md#markup-and-signatures).
      onMarkup: async (sha) => {
        document.body.append(markupEditor({
          imageUrl: await src(sha), shapes: marked[sha] ?? [],
          labels: { title: t("markup_title"), tools: t("tools"), colours: t("colours"), text: t("markup_text"), undo: t("undo"),
            cancel: t("cancel"), save: t("save"), tool_circle: t("tool_circle"), tool_arrow: t("tool_arrow"), tool_rect: t("tool_rect"),
            tool_text: t("tool_text"), color_red: t("color_red"), color_yellow: t("color_yellow"), color_white: t("color_white") },
          onSave: async (shapes) => {
            await put({ markup: shapes.length ? { ...without(sha), [sha]: shapes } : without(sha) });
            toast(t("markup_saved"));
            drawPhotos();
            window.dispatchEvent(new Event("route"));  // the screen may have been re-rendered meanwhile
          },
        }));
      },
    }));
  };
  drawPhotos();
  const where = h("p", { class: "m-hint" }, d.lat != null ? `${(+d.lat).toFixed(5)}, ${(+d.lng).toFixed(5)}` : "");
  root.replaceChildren(
    link(`/m/visit/${visit.id}/findings`, { class: "m-back" }, h("span", { "aria-hidden": "true" }, "‹ "), t("sec_findings")),
    h("h1", {}, rec?.data.title || t("new_finding")),
    reviewNote(rec) ?? "", // replaceChildren would print a null as "null"
    status,
    h("form", { class: "m-form", onsubmit: (e) => e.preventDefault() },
      photosBox,
      chips,
      field(t("title"), title),
      field(t("description"), h("textarea", { rows: 3, value: d.description ?? "", onchange: (e) => put({ description: e.target.value }) })),
      field(t("impact"), h("textarea", { rows: 2, value: d.impact ?? "", onchange: (e) => put({ impact: e.target.value }) })),
      h("div", { class: "m-two" },
        field(t("area"), select([["", "—"], ...enumCodes("area").map((a) => [a, label("area", a)])], d.area, {
          onchange: (e) => put({ area: e.target.value || null }) })),
        field(t("severity"), select(enumCodes("severity").map((s) => [s, label("severity", s)]), d.severity ?? "medium", {
          onchange: (e) => put({ severity: e.target.value }) }))),
      field(t("item"), select([["", t("none")], ...items.map((i) => [i.id, `${i.code ?? ""} ${itemTitle(i)}`])], d.item_id, {
        onchange: (e) => {
          const it = items.find((i) => i.id === e.target.value);
          put(it ? { item_id: it.id, area: it.area } : { item_id: null });
        } })),
      field(t("department"), select([["", "—"], ...departments.map((x) => [x.id, name(x)])], d.department_id ?? visit.data.department_id, {
        onchange: async (e) => { await put({ department_id: e.target.value || null }); await drawPerson(e.target.value || null); } })),
      personBox,
      field(t("captured_at"), h("input", { type: "datetime-local", value: toLocal(d.captured_at ?? new Date().toISOString()),
        onchange: (e) => e.target.value && put({ captured_at: new Date(e.target.value).toISOString() }) })),
      h("div", { class: "m-field" }, h("span", { class: "m-photo-label" }, t("location")), where,
        h("button", { type: "button", class: "m-btn", onclick: () => {
          if (!navigator.geolocation) { toast(t("no_location"), "error"); return; }
          navigator.geolocation.getCurrentPosition(async (pos) => {
            await put({ lat: pos.coords.latitude, lng: pos.coords.longitude });
            where.textContent = `${pos.coords.latitude.toFixed(5)}, ${pos.coords.longitude.toFixed(5)}`;
          }, () => toast(t("no_location"), "error"), { timeout: 15000, maximumAge: 60000 });
        } }, t("add_location"))),
      h("button", { type: "button", class: "m-btn m-primary m-wide", onclick: async () => {
        if (!title.value.trim()) { title.focus(); toast(t("title_required"), "error"); return; }
        if (!rec || rec.data.title !== title.value.trim()) await put({ title: title.value.trim() });
        toast(t("saved_locally"));
        navigate(`/m/visit/${visit.id}/findings`);
      } }, t("save"))),
  );
}

function toLocal(iso) {
  const dt = new Date(iso);
  return new Date(dt.getTime() - dt.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}
