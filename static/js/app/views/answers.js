// Rich checklist items on the phone (docs/checklists.md): what "pass" means, how to check, the
// reference photos of what good looks like, and the answer widget of each answer type. The result a
// widget records follows the scoring rules of score.js (the server's, mirrored).
import { answerResult, answerType, scaleBounds, visibleItems } from "../score.js";
import { db } from "../db.js";
import { src } from "../photos.js";
import { h, label, LANG, t } from "../ui.js";

const fmt = (x) => (x == null ? "" : String(Number(x)));

export function optionLabel(opt) {
  return (LANG === "en" && opt.label_en) || opt.label;
}

export function rangeText(item) {
  const unit = item.unit ?? "";
  if (item.range_min != null && item.range_max != null) return t("range_both", { low: fmt(item.range_min), high: fmt(item.range_max), unit }).trim();
  if (item.range_min != null) return t("range_low", { low: fmt(item.range_min), unit }).trim();
  return t("range_high", { high: fmt(item.range_max), unit }).trim();
}

// The ids of the items shown now: a conditional item only when its earlier item has the answer.
export function shownIds(items, answers) {
  const plain = new Map([...answers].map(([k, rec]) => [k, rec?.data]));
  return visibleItems([...items].sort((a, b) => (a.position ?? 0) - (b.position ?? 0)), plain);
}

// Criteria, guidance and reference photos, above the answer.
export function itemInfo(item) {
  const parts = [];
  if (item.criteria) parts.push(h("p", { class: "m-criteria" }, h("strong", {}, t("criteria"), t("colon")), item.criteria));
  const refs = item.reference_photos ?? [];
  if (item.guidance || refs.length) {
    const list = refs.length ? h("ul", { class: "m-photos m-refs", "aria-label": t("reference_photos") }) : null;
    refs.forEach((sha, n) => {
      const img = h("img", { alt: t("reference_photo_n", { n: n + 1 }), width: 88, height: 88, loading: "lazy" });
      src(sha).then((u) => { img.src = u; });
      list.append(h("li", {}, img));
    });
    parts.push(h("details", { class: "m-guidance" }, h("summary", {}, t("how_to_check")),
      item.guidance ? h("p", {}, item.guidance) : null,
      list ? h("p", { class: "m-hint" }, t("reference_photos")) : null, list));
  }
  return parts;
}

// What a new answer value records: the value and the result the scoring rules give it.
function withResult(item, a, changes) {
  const next = { ...a, ...changes };
  return { ...changes, result: changes.result === "na" ? "na" : answerResult(item, { ...next, result: next.result === "na" ? null : next.result }) };
}

function naButton(a, put) {
  return h("button", { type: "button", class: "m-res m-res-na", "aria-pressed": String(a.result === "na"),
    onclick: () => put({ result: "na" }) }, label("result", "na"));
}

// The answer control of the item's type. `put(changes)` saves the answer.
export function answerWidget(item, a, put) {
  const kind = answerType(item);
  const title = (LANG === "en" && item.title_en) || item.title;
  if (kind === "scale") {
    const [low, high] = scaleBounds(item);
    const steps = high - low;
    const group = h("div", { class: "m-results m-scale", role: "group", "aria-label": `${title} · ${t("scale_hint", { low: fmt(low), high: fmt(high) })}` });
    if (Number.isInteger(low) && Number.isInteger(high) && steps > 0 && steps <= 10) {
      for (let v = low; v <= high; v++) {
        group.append(h("button", { type: "button", class: "m-res m-score-btn", "aria-pressed": String(a.result !== "na" && a.score === v),
          onclick: () => put(withResult(item, a, { score: v, result: null })) }, String(v)));
      }
    } else {
      group.append(h("input", { type: "number", min: low, max: high, step: "any", inputmode: "decimal", class: "m-score-input",
        "aria-label": t("score"), value: a.result !== "na" ? a.score ?? "" : "",
        onchange: (e) => put(withResult(item, a, { score: e.target.value === "" ? null : Number(e.target.value), result: null })) }));
    }
    group.append(naButton(a, put));
    return [h("p", { class: "m-hint" }, t("scale_hint", { low: fmt(low), high: fmt(high) })), group, resultLine(item, a)];
  }
  if (kind === "choice") {
    const group = h("div", { class: "m-choices", role: "group", "aria-label": title });
    for (const opt of item.options ?? []) {
      group.append(h("button", { type: "button", class: `m-choice${opt.fail ? " m-choice-fail" : ""}`,
        "aria-pressed": String(a.result !== "na" && a.choice === opt.key),
        onclick: () => put(withResult(item, a, { choice: opt.key, result: null })) }, optionLabel(opt)));
    }
    group.append(naButton(a, put));
    return [group, resultLine(item, a)];
  }
  if (kind === "number") {
    const input = h("input", { type: "number", step: "any", inputmode: "decimal", class: "m-number-input",
      value: a.result !== "na" ? a.value ?? "" : "",
      onchange: (e) => put(withResult(item, a, { value: e.target.value === "" ? null : Number(e.target.value), result: null })) });
    const id = `num-${item.id}`;
    input.id = id;
    return [h("div", { class: "m-number" },
      h("label", { for: id }, t("measured_value"), item.unit ? ` (${item.unit})` : ""), input, naButton(a, put)),
    h("p", { class: "m-hint" }, t("range_hint", { range: rangeText(item) })), resultLine(item, a)];
  }
  return [h("div", { class: "m-results", role: "group", "aria-label": title }, ["pass", "fail", "na"].map((r) =>
    h("button", { type: "button", class: `m-res m-res-${r}`, "aria-pressed": String(a.result === r),
      onclick: () => put({ result: r, ...(item.scoring === "points" ? {} : { score: r === "pass" ? item.max_points ?? 10 : r === "fail" ? 0 : null }) }) },
    label("result", r))))];
}

function resultLine(item, a) {
  const r = a.result === "na" ? "na" : answerResult(item, a);
  if (!r) return null;
  return h("p", { class: `m-result-line res-${r}`, role: "status" }, t("answer_result", { result: label("result", r) }));
}

// Reference photos offline: after each sync, the reference photos of the templates are fetched
// once and kept with the phone's photos (marked as already on the server, so never sent back).
async function cacheReferencePhotos() {
  const d = await db();
  const templates = await d.getAllFromIndex("records", "entity", "template");
  const wanted = new Set(templates.flatMap((tpl) => (tpl.data.items ?? []).flatMap((i) => i.reference_photos ?? [])));
  for (const sha of wanted) {
    if (await d.get("photos", sha)) continue;
    try {
      const resp = await fetch(`/api/v1/photos/${sha}?variant=display`, { credentials: "same-origin" });
      if (!resp.ok) continue;
      const blob = await resp.blob();
      await d.put("photos", { sha256: sha, blob, type: blob.type, size: blob.size, uploaded: true, reference: true, created: Date.now() });
    } catch {
      return; // offline again: the next sync tries the rest
    }
  }
}

window.addEventListener("sync-state", (e) => {
  if (e.detail?.state === "done") cacheReferencePhotos();
});
