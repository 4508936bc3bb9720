// Pieces shared by the visit and finding screens: sync state line, photo strip.
import { discard } from "../outbox.js";
import { prepare, src } from "../photos.js";
import { recordState } from "../status.js";
import { h, label, link, t, toast } from "../ui.js";
import { syncBadge } from "./home.js";

// A synced value as the person reads it: an enumerated code by its label, never the wire code.
const ENUM_OF = { severity: "severity", area: "area", result: "result", kind: "metric_kind" };
function valueLabel(rec, field, value) {
  if (value == null || value === "") return "—";
  const group = field === "status" ? (rec.entity === "visit" ? "visit_status" : "finding_status") : ENUM_OF[field];
  if (group) return label(group, value);
  if (typeof value === "boolean") return t(value ? "yes" : "no");
  return Array.isArray(value) ? String(value.length) : String(value);
}

export async function stateLine(rec, fieldLabel = (f) => label("field", f)) {
  if (!rec) return null;
  const st = await recordState(rec);
  const box = h("div", { class: `m-state m-state-${st.state}` }, syncBadge(st));
  if (st.state === "rejected") {
    box.append(h("p", { role: "alert" }, st.item.error), h("p", { class: "m-hint" }, t("fix_and_retry")),
      h("button", { type: "button", class: "m-btn", onclick: async () => {
        if (confirm(t("confirm_discard"))) { await discard(st.item.seq); window.dispatchEvent(new Event("route")); }
      } }, t("discard")));
  }
  if (st.state === "conflict") {
    box.append(h("ul", { class: "m-conflicts" }, st.conflicts.map((c) =>
      h("li", {}, t("conflict_field", { field: fieldLabel(c.field), client: valueLabel(rec, c.field, c.client),
        server: valueLabel(rec, c.field, c.server) })))));
  }
  return box;
}

// Management's review of a synced finding (docs/review.md#on-the-phone), as the supervisor reads it:
// a rejected finding with the reason given, a merged one with the finding it went into. The fields
// arrive by the pull (review_status, review_reason, merged_into_id); a finding not synced yet has none.
export function reviewNote(rec) {
  const st = rec?.data.review_status;
  if (st === "rejected") {
    return h("div", { class: "m-review m-review-rejected", role: "note" },
      h("strong", {}, t("review_rejected")),
      rec.data.review_reason ? h("p", { class: "m-review-reason" }, t("review_reason", { reason: rec.data.review_reason })) : null);
  }
  if (st === "merged") {
    return h("div", { class: "m-review m-review-merged", role: "note" }, h("p", {}, t("review_merged")),
      rec.data.merged_into_id ? link(`/m/finding/${rec.data.merged_into_id}`, { class: "m-btn" }, t("review_open_merged")) : null);
  }
  return null;
}

// The review's badge in a list: awaiting review, rejected or merged (a confirmed finding needs none).
export function reviewBadge(rec) {
  const st = rec?.data.review_status;
  return st && st !== "confirmed" ? h("span", { class: `m-badge review-${st}` }, label("review_status", st)) : null;
}

// Thumbnails with delete buttons plus a camera input. onAdd receives prepared photo objects;
// with onMarkup each photo gets a "Mark up" button (and a "marked up" badge when `marked` has it).
export function photoStrip(hashes, { onAdd, onRemove, onMarkup = null, marked = {}, required = false }) {
  const list = h("ul", { class: "m-photos" });
  for (const sha of hashes) {
    const img = h("img", { alt: "", width: 88, height: 88, loading: "lazy" });
    src(sha).then((u) => { img.src = u; });
    list.append(h("li", {}, img,
      h("button", { type: "button", class: "m-photo-del", "aria-label": t("delete_photo"), onclick: () => onRemove(sha) }, "×"),
      onMarkup ? h("button", { type: "button", class: "m-btn m-small m-markup-btn", "data-markup": sha, onclick: () => onMarkup(sha) },
        t("markup")) : null,
      marked[sha]?.length ? h("span", { class: "m-badge m-marked" }, t("marked_up")) : null));
  }
  const input = h("input", { type: "file", accept: "image/*", capture: "environment", multiple: true, class: "m-file" });
  input.addEventListener("change", async () => {
    const files = [...input.files];
    input.value = "";
    const prepared = [];
    for (const f of files) {
      try { prepared.push(await prepare(f)); } catch (e) { toast(e.message, "error"); }
    }
    if (prepared.length) await onAdd(prepared);
  });
  const add = h("label", { class: "m-btn m-photo-add" }, input, h("span", {}, t("add_photo")));
  return h("div", { class: `m-photo-box${required ? " m-required" : ""}` },
    h("span", { class: "m-photo-label" }, `${t("photos")} (${hashes.length})`), list, add,
    required ? h("p", { class: "m-warn", role: "alert" }, t("photo_required")) : null);
}
