// Check-in and check-out (签到/签退) of a visit: the phone's position (navigator.geolocation, with
// its accuracy) and clock, saved offline like any record (entity visit_checkin) and sent with the
// next sync. The server computes the distance to the site and whether it is inside the geofence;
// the phone estimates it only to ask for the reason the server requires outside the fence.
import * as store from "../db.js";
import { save } from "../outbox.js";
import { field, fmtTime, h, t, toast } from "../ui.js";

const EARTH_M = 6371008.8;
const rad = (d) => (d * Math.PI) / 180;

export function distance(lat1, lng1, lat2, lng2) {
  const a = Math.sin(rad(lat2 - lat1) / 2) ** 2 +
    Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(rad(lng2 - lng1) / 2) ** 2;
  return 2 * EARTH_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

function position() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) { reject(new Error(t("geo_unavailable"))); return; }
    navigator.geolocation.getCurrentPosition(resolve, (e) => reject(new Error(e.code === 1 ? t("geo_denied") : t("geo_unavailable"))),
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
  });
}

const rerender = () => window.dispatchEvent(new Event("route"));

function describe(rec, site) {
  const d = rec.data;
  const kind = t(d.kind === "out" ? "checked_out" : "checked_in");
  let where;
  if (d.distance_m != null) where = t(d.in_fence ? "checkin_inside" : "checkin_outside", { m: Math.round(d.distance_m) });
  else if (site?.data.lat != null && d.lat != null) {
    const m = Math.round(distance(site.data.lat, site.data.lng, d.lat, d.lng));
    where = t("checkin_estimate", { m });
  } else where = t("distance_unknown");
  return `${kind} · ${fmtTime(d.device_time)} · ${where}`;
}

// The check-in card at the top of a visit: the last check-in/out and the buttons.
export async function checkinCard(visit, site) {
  const rows = (await store.forVisit(visit.id, "visit_checkin")).filter((r) => !r.deleted)
    .sort((a, b) => (a.data.device_time ?? "").localeCompare(b.data.device_time ?? ""));
  const last = rows.at(-1);
  const status = h("p", { class: "m-row-meta m-checkin-status", role: "status" },
    last ? describe(last, site) : t("not_checked_in"));
  const box = h("div", { class: "m-card m-checkin" }, h("h2", {}, t("checkin_title")), status);
  const ask = h("div", { class: "m-checkin-ask" });
  const record = async (kind) => {
    status.textContent = t("locating");
    let pos;
    try { pos = await position(); } catch (e) { status.textContent = e.message; toast(e.message, "error"); return; }
    const c = pos.coords;
    const data = { visit_id: visit.id, kind, lat: c.latitude, lng: c.longitude,
      accuracy_m: c.accuracy != null ? Math.round(c.accuracy * 10) / 10 : null, device_time: new Date().toISOString() };
    const s = site?.data;
    const outside = s && s.lat != null && s.lng != null &&
      distance(s.lat, s.lng, c.latitude, c.longitude) > (s.geofence_radius_m ?? 200);
    if (!outside) {
      await save("visit_checkin", crypto.randomUUID(), data);
      toast(t("saved_locally"));
      rerender();
      return;
    }
    const m = Math.round(distance(s.lat, s.lng, c.latitude, c.longitude));
    status.textContent = t("checkin_estimate", { m });
    const reason = h("textarea", { rows: 3, required: true, maxlength: 500 });
    const form = h("form", { class: "m-form", onsubmit: async (e) => {
      e.preventDefault();
      if (!reason.value.trim()) { reason.setAttribute("aria-invalid", "true"); reason.focus(); return; }
      await save("visit_checkin", crypto.randomUUID(), { ...data, reason: reason.value.trim() });
      toast(t("saved_locally"));
      rerender();
    } }, h("p", { role: "alert", class: "m-warn" }, t("outside_fence", { m })),
    field(t("outside_reason"), reason),
    h("div", { class: "m-actions" }, h("button", { type: "submit", class: "m-btn m-primary" }, t(kind === "out" ? "check_out" : "check_in")),
      h("button", { type: "button", class: "m-btn", onclick: () => { ask.replaceChildren(); status.textContent = last ? describe(last, site) : t("not_checked_in"); } }, t("cancel"))));
    ask.replaceChildren(form);
    reason.focus();
  };
  const inside = last?.data.kind === "in";
  box.append(h("div", { class: "m-actions" },
    h("button", { type: "button", class: `m-btn ${inside ? "" : "m-primary"}`, onclick: () => record("in") }, t("check_in")),
    h("button", { type: "button", class: `m-btn ${inside ? "m-primary" : ""}`, onclick: () => record("out"), disabled: !last }, t("check_out"))), ask);
  return box;
}
