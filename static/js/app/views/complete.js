// Completing a visit: the score by area, the summary, and the template's rule on unanswered items
// (require_all_answered, default on): with items unanswered, a dialog asks why, and the reason goes
// with the completion. The server checks the same rule (webapp/visits/completion.py).
import { save } from "../outbox.js";
import { AREAS, scoreByArea } from "../score.js";
import { field, fmtTime, h, label, t, toast } from "../ui.js";
import { shownIds } from "./answers.js";
import { signatureCard } from "./signature.js";

const REASON_MAX = 2000;

export async function completeSection(body, ctx) {
  const { visit, items, answers, template } = ctx;
  const score = scoreByArea(items, answers);
  const shown = shownIds(items, answers);  // conditional items not shown are not asked
  const missing = items.filter((i) => shown.has(i.id) && i.photo_required_on_fail && answers.get(i.id)?.data.result === "fail"
    && !(answers.get(i.id).data.photos ?? []).length);
  const unanswered = items.filter((i) => shown.has(i.id) && !answers.get(i.id)?.data.result);
  const needReason = unanswered.length > 0 && template?.data.require_all_answered !== false;
  const summary = h("textarea", { rows: 4, value: visit.data.summary ?? "", onchange: (e) => save("visit", visit.id, { summary: e.target.value }) });
  const complete = async (reason) => {
    // A mutation of its own, after the answers queued before it: the server counts them first.
    await save("visit", visit.id, { status: "completed", completed_at: new Date().toISOString(), summary: summary.value,
      completion_reason: unanswered.length ? reason || null : null }, { after: true });
    toast(t("completed_msg"));
    window.dispatchEvent(new Event("route"));
  };
  const dialog = needReason ? reasonDialog(unanswered.length, items.length, complete) : null;
  const done = visit.data.status === "completed";
  // Element.append() would print a null child as the text "null": children go through h().
  body.append(...h("div", {}, h("h2", {}, t("score_by_area")),
    h("table", { class: "m-score" }, h("tbody", {},
      AREAS.map((a) => h("tr", {}, h("th", { scope: "row" }, label("area", a)), h("td", {}, score.areas[a] == null ? "—" : `${score.areas[a]}%`))),
      h("tr", { class: "m-total" }, h("th", { scope: "row" }, t("overall")), h("td", {}, score.overall == null ? "—" : `${score.overall}%`)))),
    field(t("summary"), summary),
    signatureCard(visit, "closing_signature", "signature_closing"),
    missing.length ? h("p", { class: "m-warn", role: "alert" }, t("missing_photos_block", { n: missing.length })) : null,
    !done && unanswered.length ? h("p", { class: needReason ? "m-warn" : "m-hint", id: "unanswered-note" },
      t("unanswered_n", { n: unanswered.length, total: items.length }), " ", needReason ? "" : t("unanswered_optional")) : null,
    done ? h("p", { class: "m-ok" }, label("visit_status", "completed"), " · ", fmtTime(visit.data.completed_at)) : null,
    done && visit.data.completion_reason ? h("div", { class: "m-card m-reason" }, h("h3", {}, t("completed_reason")),
      h("p", {}, visit.data.completion_reason)) : null,
    done ? null : h("button", { type: "button", class: "m-btn m-primary m-wide", disabled: missing.length > 0, onclick: () => {
      if (dialog) dialog.showModal(); else complete(null);
    } }, t("complete_visit")),
    dialog).childNodes);
}

function reasonDialog(n, total, complete) {
  const reason = h("textarea", { rows: 4, maxlength: REASON_MAX, required: true, "aria-describedby": "reason-why" });
  const error = h("p", { class: "m-warn", role: "alert", hidden: true }, t("reason_needed"));
  const dialog = h("dialog", { class: "m-dialog", "aria-labelledby": "reason-title" },
    h("form", { method: "dialog", class: "m-form", novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      if (!reason.value.trim()) { error.hidden = false; reason.focus(); return; }
      dialog.close();
      await complete(reason.value.trim());
    } },
    h("h2", { id: "reason-title" }, t("complete_visit")),
    h("p", { id: "reason-why" }, t("unanswered_n", { n, total })),
    field(t("unanswered_reason"), reason), error,
    h("div", { class: "m-actions" },
      h("button", { type: "submit", class: "m-btn m-primary" }, t("complete_with_reason")),
      h("button", { type: "button", class: "m-btn", onclick: () => dialog.close() }, t("cancel")))));
  return dialog;
}
