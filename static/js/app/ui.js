// Tiny DOM helpers and the translated strings the server embedded in the page.
const boot = JSON.parse(document.getElementById("boot").textContent);
export const user = boot.user;
export const LANG = document.documentElement.lang;

export function t(key, params = {}) {
  let s = boot.s[key] ?? key;
  for (const [k, v] of Object.entries(params)) s = s.replaceAll(`%(${k})s`, String(v));
  return s.replaceAll("%%", "%");
}

export const label = (group, code) => (code == null ? "" : boot.enums[group]?.[code] ?? code);
export const enumCodes = (group) => Object.keys(boot.enums[group] ?? {});
export const name = (rec) => (rec ? (LANG === "en" && rec.data.name_en) || rec.data.name || "" : "");
export const itemTitle = (item) => (LANG === "en" && item.title_en) || item.title;

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let uid = 0;
// A labelled field; `control` is an input/select/textarea element.
export function field(text, control, hint) {
  const id = control.id || `f${++uid}`;
  control.id = id;
  return h("div", { class: "m-field" }, h("label", { for: id }, text), control, hint && h("p", { class: "m-hint" }, hint));
}

export function select(options, value, attrs = {}) {
  return h("select", attrs, options.map(([v, text]) => h("option", { value: v, selected: v === (value ?? "") }, text)));
}

export function fmtDate(iso) {
  if (!iso) return "";
  const d = new Date(iso.length === 10 ? `${iso}T00:00:00` : iso);
  return d.toLocaleDateString(LANG, { month: "short", day: "numeric", weekday: "short" });
}

export function fmtTime(iso) {
  return iso ? new Date(iso).toLocaleString(LANG, { dateStyle: "short", timeStyle: "short" }) : "";
}

export function toast(text, kind = "info") {
  const box = h("div", { class: `m-toast m-toast-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  document.body.append(box);
  setTimeout(() => box.remove(), 3500);
}

export function navigate(path) {
  history.pushState({}, "", path);
  window.dispatchEvent(new Event("route"));
}

export function link(path, attrs, ...children) {
  return h("a", { href: path, ...attrs, onclick: (e) => { e.preventDefault(); navigate(path); } }, ...children);
}
