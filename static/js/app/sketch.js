// Drawing with a finger, a pen or a mouse (Pointer Events): the photo markup editor and the
// signature pad. Both keep VECTOR data in normalized 0..1 coordinates (docs/photo-evidence.md):
//   markup shape  {kind: circle|rect|arrow|text, color: red|yellow|white, x1, y1, x2, y2, text}
//   signature     {signer, signed_at, strokes: [[[x, y], …], …]}  (pad 3 × as wide as high)
// No dependency on the phone app's boot data: the desk's acceptance form uses it too; labels come in.
export const COLORS = { red: "#e61e1e", yellow: "#ffd600", white: "#ffffff" };
export const SIGNATURE_ASPECT = 3;
const r4 = (v) => Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c != null) e.append(c);
  return e;
}

function pointAt(canvas, ev) {
  const r = canvas.getBoundingClientRect();
  return [r4((ev.clientX - r.left) / r.width), r4((ev.clientY - r.top) / r.height)];
}

// Draw shapes on a 2D context of size w × h (the same geometry the server draws, webapp/evidence/markup.py).
export function drawShapes(ctx, shapes, w, h) {
  const width = Math.max(2, Math.round(Math.min(w, h) / 120));
  for (const s of shapes) {
    ctx.strokeStyle = ctx.fillStyle = COLORS[s.color] ?? COLORS.red;
    ctx.lineWidth = width;
    const x1 = s.x1 * w, y1 = s.y1 * h, x2 = (s.x2 ?? s.x1) * w, y2 = (s.y2 ?? s.y1) * h;
    ctx.beginPath();
    if (s.kind === "circle") {
      ctx.ellipse((x1 + x2) / 2, (y1 + y2) / 2, Math.abs(x2 - x1) / 2, Math.abs(y2 - y1) / 2, 0, 0, 2 * Math.PI);
      ctx.stroke();
    } else if (s.kind === "rect") {
      ctx.strokeRect(Math.min(x1, x2), Math.min(y1, y2), Math.abs(x2 - x1), Math.abs(y2 - y1));
    } else if (s.kind === "arrow") {
      const a = Math.atan2(y2 - y1, x2 - x1), head = Math.max(8, width * 4);
      ctx.moveTo(x1, y1); ctx.lineTo(x2, y2);
      for (const side of [-0.45, 0.45]) { ctx.moveTo(x2, y2); ctx.lineTo(x2 - head * Math.cos(a + side), y2 - head * Math.sin(a + side)); }
      ctx.stroke();
    } else if (s.kind === "text") {
      const size = Math.max(12, Math.round(Math.min(w, h) / 22));
      ctx.font = `${size}px sans-serif`;
      ctx.textBaseline = "top";
      ctx.lineWidth = Math.max(1, size / 10) * 2;
      ctx.strokeStyle = "#000";
      ctx.strokeText(s.text, x1, y1);
      ctx.fillText(s.text, x1, y1);
    }
  }
}

// The markup editor, full screen: tools, colours, undo, cancel, save. `labels` holds the texts.
export function markupEditor({ imageUrl, shapes = [], labels, onSave, onCancel }) {
  const list = shapes.map((s) => ({ ...s }));
  let tool = "circle", color = "red", start = null, preview = null;
  const canvas = el("canvas", { class: "sk-canvas", role: "img", "aria-label": labels.title });
  const img = new Image();
  const redraw = () => {
    if (!img.naturalWidth) return;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    drawShapes(ctx, preview ? [...list, preview] : list, canvas.width, canvas.height);
    undo.disabled = !list.length;
  };
  img.onload = () => {
    const scale = Math.min(1, 1600 / Math.max(img.naturalWidth, img.naturalHeight));
    canvas.width = Math.round(img.naturalWidth * scale);
    canvas.height = Math.round(img.naturalHeight * scale);
    redraw();
  };
  img.src = imageUrl;
  const text = el("input", { type: "text", maxlength: 200, class: "sk-text", id: "sk-text", hidden: true });
  const textField = el("label", { class: "sk-text-label", for: "sk-text", hidden: true }, labels.text);
  const pick = (group, value, btn) => {
    for (const b of btn.parentElement.children) b.setAttribute("aria-pressed", String(b === btn));
    if (group === "tool") { tool = value; text.hidden = textField.hidden = tool !== "text"; if (tool === "text") text.focus(); }
    else color = value;
  };
  const tools = el("div", { class: "sk-group", role: "group", "aria-label": labels.tools },
    ["circle", "arrow", "rect", "text"].map((k) => el("button", { type: "button", class: `sk-btn sk-tool-${k}`, "data-tool": k,
      "aria-pressed": String(k === tool), onclick: (e) => pick("tool", k, e.currentTarget) }, labels[`tool_${k}`])));
  const colours = el("div", { class: "sk-group", role: "group", "aria-label": labels.colours },
    Object.keys(COLORS).map((k) => el("button", { type: "button", class: `sk-btn sk-color sk-color-${k}`, "data-color": k,
      "aria-pressed": String(k === color), onclick: (e) => pick("color", k, e.currentTarget) }, labels[`color_${k}`])));
  const undo = el("button", { type: "button", class: "sk-btn", disabled: true, onclick: () => { list.pop(); redraw(); } }, labels.undo);
  canvas.addEventListener("pointerdown", (ev) => {
    ev.preventDefault();
    canvas.setPointerCapture?.(ev.pointerId);
    start = pointAt(canvas, ev);
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!start || tool === "text") return;
    const [x, y] = pointAt(canvas, ev);
    preview = { kind: tool, color, x1: start[0], y1: start[1], x2: x, y2: y };
    redraw();
  });
  const finish = (ev) => {
    if (!start) return;
    const [x, y] = pointAt(canvas, ev);
    if (tool === "text") {
      const words = text.value.trim();
      if (words) { list.push({ kind: "text", color, x1: start[0], y1: start[1], text: words.slice(0, 200) }); text.value = ""; }
      else text.focus();
    } else if (Math.abs(x - start[0]) + Math.abs(y - start[1]) > 0.01) {
      list.push({ kind: tool, color, x1: start[0], y1: start[1], x2: x, y2: y });
    }
    start = preview = null;
    redraw();
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", () => { start = preview = null; redraw(); });
  const box = el("div", { class: "sk-editor", role: "dialog", "aria-modal": "true", "aria-label": labels.title },
    el("h2", { class: "sk-title" }, labels.title),
    el("div", { class: "sk-stage" }, canvas),
    el("div", { class: "sk-bar" }, tools, colours),
    el("div", { class: "sk-bar" }, textField, text),
    el("div", { class: "sk-bar sk-actions" }, undo,
      el("button", { type: "button", class: "sk-btn", onclick: () => { box.remove(); onCancel?.(); } }, labels.cancel),
      el("button", { type: "button", class: "sk-btn sk-primary", "data-save": "1", onclick: async () => {
        await onSave(list);
        box.remove();
      } }, labels.save)));
  return box;
}

// A signature pad: strokes in normalized coordinates. Returns {el, strokes(), clear()}.
// `initial`: strokes to start from (a draft kept across a re-render of the screen).
export function signaturePad({ label, onChange, initial = [] } = {}) {
  let strokes = initial.map((st) => st.map((p) => [...p])), current = null;
  const canvas = el("canvas", { class: "sk-pad", width: 900, height: 900 / SIGNATURE_ASPECT, tabindex: "0", role: "img", "aria-label": label });
  const redraw = () => {
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    drawStrokes(ctx, current ? [...strokes, current] : strokes, canvas.width, canvas.height);
  };
  canvas.addEventListener("pointerdown", (ev) => {
    ev.preventDefault();
    canvas.setPointerCapture?.(ev.pointerId);
    current = [pointAt(canvas, ev)];
    redraw();
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!current) return;
    for (const e of ev.getCoalescedEvents?.() ?? [ev]) current.push(pointAt(canvas, e));
    redraw();
  });
  const end = () => {
    if (!current) return;
    strokes.push(current.slice(0, 1000));
    current = null;
    redraw();
    onChange?.(strokes);
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  redraw();
  return {
    el: canvas,
    strokes: () => strokes.map((s) => s.map((p) => [...p])),
    clear: () => { strokes = []; redraw(); onChange?.(strokes); },
  };
}

export function drawStrokes(ctx, strokes, w, h) {
  ctx.strokeStyle = ctx.fillStyle = "#141e3c";
  ctx.lineWidth = Math.max(2, w / 200);
  ctx.lineCap = ctx.lineJoin = "round";
  for (const s of strokes) {
    ctx.beginPath();
    ctx.moveTo(s[0][0] * w, s[0][1] * h);
    if (s.length === 1) ctx.lineTo(s[0][0] * w + 0.5, s[0][1] * h);
    for (const [x, y] of s.slice(1)) ctx.lineTo(x * w, y * h);
    ctx.stroke();
  }
}

// A stored signature as a picture (canvas), for showing it back.
export function signatureImage(sig, label) {
  const canvas = el("canvas", { class: "sk-pad sk-signed", width: 600, height: 200, role: "img", "aria-label": label });
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, 600, 200);
  drawStrokes(ctx, sig?.strokes ?? [], 600, 200);
  return canvas;
}
