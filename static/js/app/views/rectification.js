// A department head's rectifications (整改) on the phone: the open ones of their department with
// deadline, finding, site and the finding's photos; progress with a note and photos, and the request
// for acceptance — offline. Progress is a `rectification_update` record in the outbox (sync protocol
// v1); `submit: true` on it makes the request, which the server runs through the desk's operation.
// Deadlines and statuses come from GET /api/v1/rectifications after each sync, kept for offline use.
import * as store from "../db.js";
import { save } from "../outbox.js";
import { recordState } from "../status.js";
import { fmtDate, fmtTime, field, h, label, link, name, navigate, t, toast, user } from "../ui.js";
import { photoStrip, stateLine } from "./widgets.js";

const FEED = "rect_feed";
const draftKey = (fid) => `rect_draft:${fid}`;

// After a sync: the deadlines and statuses, and the findings' photos (so they show offline too).
export async function refresh() {
  if (!navigator.onLine) return;
  try {
    const resp = await fetch("/api/v1/rectifications", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!resp.ok) return;
    const body = await resp.json();
    await store.meta(FEED, { rows: body.rectifications, today: body.today, at: new Date().toISOString() });
    window.dispatchEvent(new Event("rect-feed"));
    await cachePhotos(body.rectifications);
    document.body.dataset.rectFeed = "ready";  // the feed and its photos are on the phone
    window.dispatchEvent(new Event("rect-feed"));
  } catch { /* offline or the server unreachable: the last feed stays */ }
}

async function cachePhotos(rows) {
  const d = await store.db();
  for (const r of rows) {
    const f = await store.get("finding", r.finding_id);
    for (const sha of f?.data.photos ?? []) {
      if (await d.get("photos", sha)) continue;
      try {
        const resp = await fetch(`/api/v1/photos/${sha}?variant=display`, { credentials: "same-origin" });
        if (!resp.ok) continue;
        const blob = await resp.blob();
        // The server's copy: marked uploaded, so it is never sent back nor counted as unsynced.
        await d.put("photos", { sha256: sha, blob, type: blob.type, size: blob.size, uploaded: true, cached: true, created: Date.now() });
      } catch { return; }
    }
  }
}

async function feed() {
  return (await store.meta(FEED)) ?? { rows: [], today: null, at: null };
}

// Progress reports on this phone for a finding (pulled and written here), oldest first.
async function updatesOf(findingId) {
  const rows = (await store.all("rectification_update")).filter((r) => !r.deleted && r.data.finding_id === findingId);
  return rows.sort((a, b) => (a.local_at ?? 0) - (b.local_at ?? 0) || String(a.id).localeCompare(String(b.id)));
}

// The state the head sees: the server's, unless a request for acceptance waits on this phone.
async function localState(row) {
  for (const u of await updatesOf(row.finding_id)) {
    if (!u.data.submit) continue;
    const st = await recordState(u);
    if (st.state === "pending") return "submitted_here";
  }
  if (row.status === "pending_acceptance") return "awaiting";
  return row.round > 1 ? "failed" : "rectifying";
}

// The catalog's wording takes a number (%(n)d), as on the desk.
const round = (n) => t("rect_round").replace("%(n)d", String(n));

function statusBadge(state, row) {
  const text = { submitted_here: t("rect_awaiting"), awaiting: t("rect_awaiting"), failed: t("rect_failed"), rectifying: t("rect_rectifying") }[state];
  return h("span", { class: `m-badge rect-${state}` }, text, state === "submitted_here" ? " · " + t("st_pending") : "",
    row.round > 1 ? " · " + round(row.round) : "");
}

export async function renderList(root) {
  const { rows, at } = await feed();
  const sites = new Map((await store.all("site")).map((s) => [s.id, s]));
  const due = [], waiting = [];
  for (const row of rows) {
    const f = await store.get("finding", row.finding_id);
    if (!f) continue;
    const state = await localState(row);
    const item = h("li", {}, link(`/m/rect/${row.finding_id}`, { class: "m-row" },
      h("span", { class: "m-row-title" }, f.data.title),
      h("span", { class: "m-row-meta" }, name(sites.get(f.data.site_id)) || "—", " · ", t("rect_due", { date: fmtDate(row.deadline) })),
      h("span", { class: "m-badges" }, statusBadge(state, row),
        row.overdue && state !== "submitted_here" ? h("span", { class: "m-badge rect-overdue" }, t("rect_overdue")) : null)));
    (state === "awaiting" || state === "submitted_here" ? waiting : due).push(item);
  }
  root.replaceChildren(...[
    h("h1", {}, t("my_rectifications")),
    h("p", { class: "m-hint" }, at ? t("rect_as_of", { time: fmtTime(at) }) : t("rect_never")),
    !due.length && !waiting.length ? h("p", { class: "m-empty" }, t("no_rectifications")) : null,
    due.length ? h("section", { "aria-labelledby": "rect-due" }, h("h2", { id: "rect-due" }, t("rect_group_due"), " ", h("span", { class: "m-badge rect-count" }, due.length)), h("ul", { class: "m-list" }, due)) : null,
    waiting.length ? h("section", { "aria-labelledby": "rect-wait" }, h("h2", { id: "rect-wait" }, t("rect_group_awaiting"), " ", h("span", { class: "m-badge rect-count" }, waiting.length)), h("ul", { class: "m-list" }, waiting)) : null,
  ].filter(Boolean));
}

// Read-only thumbnails: the phone's copy when it has one (offline), else the server's thumbnail.
const blobUrls = new Map();
function thumbs(hashes, alt) {
  return h("ul", { class: "m-photos rect-photos" }, hashes.map((sha) => {
    const img = h("img", { alt, width: 88, height: 88, loading: "lazy" });
    store.photo(sha).then((p) => {
      if (p && !blobUrls.has(sha)) blobUrls.set(sha, URL.createObjectURL(p.blob));
      img.src = blobUrls.get(sha) ?? `/api/v1/photos/${sha}?variant=thumb`;
    });
    return h("li", {}, img);
  }));
}

export async function render(root, findingId) {
  const f = await store.get("finding", findingId);
  const { rows } = await feed();
  const row = rows.find((r) => r.finding_id === findingId);
  if (!f || !row) {
    root.replaceChildren(h("p", { class: "m-empty" }, t("empty")), link("/m/", { class: "m-btn" }, t("back")));
    return;
  }
  const site = await store.get("site", f.data.site_id);
  const state = await localState(row);
  const updates = await updatesOf(findingId);
  const history = await Promise.all(updates.map(async (u) => h("li", { class: "rect-update" },
    h("p", {}, h("strong", {}, `${u.data.progress ?? 0}%`), " ",
      h("progress", { max: 100, value: u.data.progress ?? 0, "aria-label": `${u.data.progress ?? 0}%` }),
      u.data.submit ? h("span", { class: "m-badge rect-awaiting" }, t("submit_acceptance")) : null),
    u.data.note ? h("p", {}, u.data.note) : null,
    (u.data.photos ?? []).length ? thumbs(u.data.photos, t("photos")) : null,
    await stateLine(u))));

  const mayReport = row.may_manage && row.status === "rectifying" && state !== "submitted_here";
  root.replaceChildren(...[
    link("/m/", { class: "m-back" }, h("span", { "aria-hidden": "true" }, "‹ "), t("my_rectifications")),
    h("h1", {}, f.data.title),
    h("p", { class: "m-badges" }, statusBadge(state, row), row.overdue && state !== "submitted_here" ? h("span", { class: "m-badge rect-overdue" }, t("rect_overdue")) : null),
    h("dl", { class: "m-facts" },
      h("dt", {}, t("deadline")), h("dd", { class: row.overdue ? "rect-late" : null }, fmtDate(row.deadline)),
      h("dt", {}, t("site")), h("dd", {}, name(site) || "—"),
      h("dt", {}, t("severity")), h("dd", {}, label("severity", f.data.severity)),
      f.data.description ? [h("dt", {}, t("description")), h("dd", {}, f.data.description)] : null,
      h("dt", {}, t("measures")), h("dd", {}, row.measures),
      h("dt", {}, t("owner")), h("dd", {}, row.owner)),
    row.last_reason && row.status === "rectifying" ? h("p", { class: "m-warn", role: "note" }, t("rect_failed_reason", { reason: row.last_reason })) : null,
    h("section", { class: "m-card", "aria-labelledby": "rect-before" },
      h("h2", { id: "rect-before" }, t("before_photos")),
      (f.data.photos ?? []).length ? thumbs(f.data.photos, t("before_photos")) : h("p", { class: "m-hint" }, t("no_before_photos"))),
    h("section", { class: "m-card", "aria-labelledby": "rect-history" },
      h("h2", { id: "rect-history" }, t("progress_so_far")),
      history.length ? h("ul", { class: "rect-history" }, history) : h("p", { class: "m-hint" }, t("no_progress"))),
    state === "submitted_here" ? h("p", { class: "m-hint", role: "status" }, t("rect_submitted_here")) : null,
    state === "awaiting" ? h("p", { class: "m-hint", role: "status" }, t("rect_awaiting_hint")) : null,
    !row.may_manage ? h("p", { class: "m-hint" }, t("rect_not_yours")) : null,
    mayReport ? await progressForm(findingId, row, updates) : null,
  ].filter(Boolean));
}

// The form keeps what is typed (note, progress, photos) on the phone as a draft until it is saved.
async function progressForm(findingId, row, updates) {
  const draft = (await store.meta(draftKey(findingId))) ?? { progress: updates.at(-1)?.data.progress ?? null, note: "", photos: [] };
  const keep = () => store.meta(draftKey(findingId), draft);
  const pct = h("input", { type: "number", min: 0, max: 100, step: 1, inputmode: "numeric", value: draft.progress ?? "",
    required: true, oninput: (e) => { draft.progress = e.target.value === "" ? null : Number(e.target.value); keep(); } });
  const note = h("textarea", { rows: 3, maxlength: 20000, value: draft.note, oninput: (e) => { draft.note = e.target.value; keep(); } });
  const photosBox = h("div");
  // A photo taken for the draft goes to the photo store at once (so it shows and survives a closed
  // tab); it is uploaded with the next sync like any other.
  const drawPhotos = () => photosBox.replaceChildren(photoStrip(draft.photos, {
    onAdd: async (ps) => {
      const d = await store.db();
      for (const p of ps) await d.put("photos", p);
      draft.photos = [...new Set([...draft.photos, ...ps.map((p) => p.sha256)])];
      await keep();
      drawPhotos();
    },
    onRemove: async (sha) => { draft.photos = draft.photos.filter((x) => x !== sha); await keep(); drawPhotos(); },
  }));
  drawPhotos();
  const send = async (submit) => {
    const value = Number(pct.value);
    if (pct.value === "" || !Number.isInteger(value) || value < 0 || value > 100) { pct.focus(); toast(t("progress_range"), "error"); return; }
    if (!note.value.trim() && !draft.photos.length) { note.focus(); toast(t("progress_empty"), "error"); return; }
    if (submit && !confirm(t("confirm_submit"))) return;
    const data = { finding_id: findingId, progress: value, note: note.value.trim() || null, photos: [...draft.photos].sort() };
    if (submit) data.submit = true;
    await save("rectification_update", crypto.randomUUID(), data);
    await store.db().then((d) => d.delete("meta", draftKey(findingId)));
    toast(submit ? t("rect_submitted_here") : t("progress_saved"));
    navigate(submit ? "/m/" : `/m/rect/${findingId}`);
  };
  return h("section", { class: "m-card", "aria-labelledby": "rect-new" },
    h("h2", { id: "rect-new" }, t("new_progress")),
    h("form", { class: "m-form", onsubmit: (e) => { e.preventDefault(); send(false); } },
      field(t("progress_pct"), pct),
      field(t("note"), note),
      photosBox,
      h("button", { type: "submit", class: "m-btn m-wide", id: "rect-record" }, t("record_progress")),
      h("button", { type: "button", class: "m-btn m-primary m-wide", id: "rect-submit", onclick: () => send(true) }, t("submit_acceptance"))));
}
