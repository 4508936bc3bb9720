// The site's person signs the opening or the closing meeting with a finger: name, time and the
// strokes (vector, normalized) are saved on the visit record offline and synced with it.
import { save } from "../outbox.js";
import { signatureImage, signaturePad } from "../sketch.js";
import { field, fmtTime, h, t, toast } from "../ui.js";

const MAX_POINTS = 5000;
// Signatures being drawn, by visit and meeting: the screen re-renders when a sync brings news, and a
// half-drawn signature or a typed name must survive that.
const drafts = new Map();

// Fewer points when a long signature exceeds the protocol's limit (every k-th point, ends kept).
function thin(strokes) {
  const total = strokes.reduce((n, s) => n + s.length, 0);
  if (total <= MAX_POINTS) return strokes;
  const k = Math.ceil(total / (MAX_POINTS - 2 * strokes.length));
  return strokes.map((s) => s.filter((_, i) => i % k === 0 || i === s.length - 1));
}

export function signatureCard(visit, fieldName, titleKey) {
  const sig = visit.data[fieldName];
  const card = h("section", { class: "m-card m-signature", "aria-label": t(titleKey), "data-signature": fieldName });
  const key = `${visit.id}:${fieldName}`;
  const draw = (signing) => {
    if (sig && !signing && !drafts.has(key)) {
      card.replaceChildren(h("h3", {}, t(titleKey)), signatureImage(sig, t(titleKey)),
        h("p", { class: "m-row-meta" }, t("signed_by", { name: sig.signer, time: fmtTime(sig.signed_at) })),
        h("button", { type: "button", class: "m-btn", onclick: () => { drafts.set(key, { strokes: [], signer: "" }); draw(true); } }, t("sign_again")));
      return;
    }
    const draft = drafts.get(key) ?? { strokes: [], signer: "" };
    const pad = signaturePad({ label: t("signature_pad"), initial: draft.strokes,
      onChange: (strokes) => { draft.strokes = strokes.map((st) => st.map((p) => [...p])); drafts.set(key, draft); } });
    const signer = h("input", { maxlength: 80, autocomplete: "name", value: draft.signer,
      oninput: (e) => { draft.signer = e.target.value; drafts.set(key, draft); } });
    card.replaceChildren(h("h3", {}, t(titleKey)), h("p", { class: "m-hint" }, t("signature_hint")),
      field(t("signer"), signer),
      h("div", { class: "m-field" }, h("span", { class: "m-photo-label" }, t("signature_pad")), pad.el),
      h("div", { class: "m-actions" },
        h("button", { type: "button", class: "m-btn", onclick: () => pad.clear() }, t("clear")),
        h("button", { type: "button", class: "m-btn m-primary", "data-save-signature": "1", onclick: async () => {
          const strokes = pad.strokes();
          if (!signer.value.trim()) { signer.focus(); toast(t("signer_required"), "error"); return; }
          if (!strokes.length) { toast(t("signature_empty"), "error"); return; }
          await save("visit", visit.id, { [fieldName]: { signer: signer.value.trim(), signed_at: new Date().toISOString(),
            strokes: thin(strokes.slice(0, 100)) } });
          drafts.delete(key);
          toast(t("signature_saved"));
          window.dispatchEvent(new Event("route"));
        } }, t("save_signature"))));
  };
  draw(false);
  return card;
}
