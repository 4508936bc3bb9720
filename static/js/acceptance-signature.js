// The desk's acceptance form: a signature pad (finger, pen or mouse) whose strokes go into the
// hidden `signature` field as JSON (checked on the server, webapp/rectification/schemas.py).
import { signaturePad } from "/static/js/app/sketch.js";

for (const box of document.querySelectorAll("[data-signature-pad]")) {
  const hidden = box.querySelector("input[name=signature]");
  const pad = signaturePad({
    label: box.dataset.label,
    onChange: (strokes) => { hidden.value = strokes.length ? JSON.stringify(strokes.slice(0, 100)) : ""; },
  });
  const clear = document.createElement("button");
  clear.type = "button";
  clear.className = "btn";
  clear.textContent = box.dataset.clear;
  clear.addEventListener("click", () => pad.clear());
  hidden.before(pad.el, clear);
}
