// Sync protocol v1 (docs/sync-protocol.md): upload photos (HEAD, then PUT), push the outbox
// in order, upload any photos the server still lacks, then pull changes from the cursor.
import { db, deviceId, keyOf, meta, wipe } from "./db.js";
import { changed } from "./status.js";
import { recover } from "./outbox.js";
import { label, t } from "./ui.js";

let csrf = document.body.dataset.csrf;
let running = null;

// A 401: the sign-in no longer counts. `code` says why (account_disabled, session_expired,
// signed_out, unauthorized) and the message is the server's, in the user's language.
export class SignedOut extends Error {
  constructor(code, message) {
    super(message || code || "unauthorized");
    this.code = code || "unauthorized";
    this.serverMessage = message || null;
  }
}

async function api(path, { method = "GET", body, headers = {} } = {}) {
  // X-Device-Time: the phone's clock, for the server's trusted time (docs/sync-protocol.md).
  const opts = { method, credentials: "same-origin", headers: { Accept: "application/json", "X-Device-Time": new Date().toISOString(), ...headers } };
  if (method !== "GET" && method !== "HEAD") opts.headers["X-CSRFToken"] = csrf;
  if (body !== undefined) {
    if (body instanceof Blob) opts.body = body;
    else { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  }
  const resp = await fetch(path, opts);
  if (resp.status === 401) {
    const error = (await resp.json().catch(() => null))?.error;
    throw new SignedOut(error?.code, error?.message);
  }
  return resp;
}

async function json(resp) {
  let body = null;
  try { body = await resp.json(); } catch { /* empty */ }
  if (!resp.ok) throw new Error(body?.error?.message ?? `HTTP ${resp.status}`);
  return body;
}

export function syncNow() {
  running ??= run().finally(() => { running = null; });
  return running;
}

export const isSyncing = () => running !== null;

async function run() {
  if (!navigator.onLine) return { ok: false, offline: true };
  window.dispatchEvent(new CustomEvent("sync-state", { detail: { state: "syncing" } }));
  try {
    await recover();
    const s = await json(await api("/m/session.json"));
    csrf = s.csrf_token;
    await checkUser(s.user);
    if (s.version) window.dispatchEvent(new CustomEvent("server-version", { detail: s.version }));
    await uploadPhotos();
    await push();
    await uploadPhotos();
    await pull();
    await meta("last_sync", new Date().toISOString());
    window.dispatchEvent(new CustomEvent("sync-state", { detail: { state: "done" } }));
    return { ok: true };
  } catch (e) {
    // fetch() rejects with a TypeError when the server cannot be reached: say so in the user's language.
    const message = e instanceof TypeError ? t("network_error") : e.message;
    const detail = e instanceof SignedOut
      ? { state: "signed-out", code: e.code, message: e.serverMessage }
      : { state: "error", message };
    window.dispatchEvent(new CustomEvent("sync-state", { detail }));
    return { ok: false, ...detail };
  } finally {
    changed();
  }
}

// The phone's data belongs to one user. Another user signing in on it gets a clean store — unless
// the previous user left unsynced items, which are never thrown away.
async function checkUser(user) {
  const d = await db();
  const mine = await meta("user_id");
  if (mine && mine !== user.id) {
    const photos = (await d.getAll("photos")).filter((p) => !p.uploaded).length;
    if ((await d.count("outbox")) + photos > 0) throw new Error(t("other_user"));
    await wipe();
  }
  await meta("user_id", user.id);
}

export async function uploadPhotos() {
  const d = await db();
  for (const p of await d.getAll("photos")) {
    if (p.uploaded) continue;
    const url = `/api/v1/photos/${p.sha256}`;
    let ok = (await api(url, { method: "HEAD" })).status === 200;
    if (!ok) {
      const resp = await api(url, { method: "PUT", body: p.blob, headers: { "Content-Type": p.type } });
      ok = resp.status === 200 || resp.status === 201;
      if (!ok) {
        const msg = (await resp.json().catch(() => null))?.error?.message ?? `HTTP ${resp.status}`;
        await d.put("photos", { ...p, error: msg });
        continue;
      }
    }
    await d.put("photos", { ...p, uploaded: true, error: null });
    changed();
  }
}

const wire = (m) => ({
  mutation_id: m.mutation_id, entity: m.entity, id: m.id, op: m.op,
  base_version: m.base_version, data: m.data, client_time: m.client_time,
});

async function push() {
  const device_id = await deviceId();
  for (let round = 0; round < 50; round++) {
    const d = await db();
    // Read and mark "sending" in one transaction, so an edit made meanwhile goes to a new mutation.
    let tx = d.transaction("outbox", "readwrite");
    const items = await tx.store.getAll();
    // One mutation per record per batch (the next one's base_version is the version this one gets);
    // nothing after a rejected mutation of the same record is sent.
    const seen = new Set();
    const batch = [];
    for (const m of items) {
      if (seen.has(m.key)) continue;
      seen.add(m.key);
      if (m.state !== "rejected") batch.push(m);
      if (batch.length >= 100) break;
    }
    for (const m of batch) {
      Object.assign(m, { state: "sending", attempted: true });
      await tx.store.put(m);
    }
    await tx.done;
    if (!batch.length) return;
    let results;
    try {
      results = (await json(await api("/api/v1/sync/push", { method: "POST", body: { device_id, mutations: batch.map(wire) } }))).results;
    } catch (e) {
      await recover();
      throw e;
    }
    const byId = new Map(batch.map((m) => [m.mutation_id, m]));
    tx = d.transaction(["outbox", "records", "photos"], "readwrite");
    const outbox = tx.objectStore("outbox");
    const records = tx.objectStore("records");
    let progress = false;
    for (const r of results) {
      const m = byId.get(r.mutation_id);
      if (!m) continue;
      const rec = await records.get(m.key);
      if (["applied", "merged", "duplicate", "conflict"].includes(r.status)) {
        progress = true;
        await outbox.delete(m.seq);
        // Only "applied" means the server now holds exactly what this device sent, so only then
        // is its version the base of the device's next edits; after "merged" or "conflict" the
        // server differs, and the engine reads the device's own earlier sends from the old base.
        const firstStatus = r.status === "duplicate" ? r.first_status : r.status;
        if (firstStatus === "applied") {
          for (const next of await outbox.index("key").getAll(m.key)) {
            next.base_version = r.version;
            await outbox.put(next);
          }
        }
        if (rec) {
          rec.version = Math.max(rec.version ?? 0, r.version ?? 0);
          rec.server = { ...(rec.server ?? {}), ...m.data };
          rec.error = null;
          if (r.status === "conflict" || r.conflicts?.length) {
            rec.conflicts = r.conflicts;
            rec.conflict_version = r.version;
          }
          await records.put(rec);
        }
        for (const sha of r.missing_photos ?? []) {
          const p = await tx.objectStore("photos").get(sha);
          if (p) await tx.objectStore("photos").put({ ...p, uploaded: false });
        }
      } else if (r.status === "rejected") {
        progress = true;
        // The server's messages are in the user's language; a refusal of the whole record (its id,
        // its status, its parent) reads best without a field name in front.
        const whole = ["id", "_schema", "mutation_id", "status", "finding_id", "visit_id", "supervisor_id"];
        const msg = Object.entries(r.errors ?? {}).map(([f, v]) =>
          (whole.includes(f) ? "" : label("field", f) + t("colon")) + [].concat(v).join(" ")).join(t("list_sep"));
        await outbox.put({ ...m, state: "rejected", error: msg || r.status });
        if (rec) { rec.error = msg || r.status; await records.put(rec); }
      } else {
        await outbox.put({ ...m, state: "queued" });
      }
    }
    await tx.done;
    changed();
    if (!progress) return;
  }
}

// The phone pulls its phone scope (docs/sync-protocol.md): reference data, open work and the
// recent period on a first pull, every change after that. Pages come in the column encoding.
async function pull() {
  for (let round = 0; round < 200; round++) {
    const [cursor, horizon] = [await meta("cursor"), await meta("horizon")];
    const q = new URLSearchParams({ scope: "phone", encoding: "columns", limit: "5000" });
    if (cursor != null) q.set("cursor", cursor);
    if (horizon != null) q.set("horizon", horizon);
    const page = await json(await api(`/api/v1/sync/pull?${q}`));
    const d = await db();
    const tx = d.transaction(["records", "outbox", "meta"], "readwrite");
    await storeChanges(tx, decodePage(page));
    const m = tx.objectStore("meta");
    await m.put(page.cursor, "cursor");
    if (page.since) await m.put(page.since, "since");
    // The first pull's window ends with it: later pulls bring every change (no horizon).
    if (page.more && page.horizon != null) await m.put(page.horizon, "horizon");
    else await m.delete("horizon");
    await tx.done;
    if (!page.more || !page.cursor) break;
  }
}

// A page in the column encoding as changes ({entity, id, version, deleted, has_conflict, data}).
export function decodePage(page) {
  if (page.encoding !== "columns") return page.changes;
  const out = [];
  for (const [entity, block] of Object.entries(page.entities)) {
    const n = block.fields.length;
    for (const row of block.rows) {
      const data = {};
      for (let i = 0; i < n; i++) data[block.fields[i]] = row[4 + i];
      if (row.length > 4 + n) Object.assign(data, row[4 + n]);
      out.push({ entity, id: row[0], version: row[1], deleted: row[2], has_conflict: row[3], data });
    }
  }
  return out.concat(page.removed);
}

// Pulled or fetched changes into the records store, under what the outbox still holds.
// `older`: records fetched on demand, which never replace a newer copy already on the phone.
async function storeChanges(tx, changes, { older = false } = {}) {
  const records = tx.objectStore("records");
  for (const c of changes) {
    const key = keyOf(c.entity, c.id);
    const pending = await tx.objectStore("outbox").index("key").getAll(key);
    const have = await records.get(key);
    if (older && have && have.version >= c.version) continue;
    const rec = have ?? { key, entity: c.entity, id: c.id, version: 0, data: {} };
    if (c.deleted && !pending.length) { await records.delete(key); continue; }
    rec.version = c.version;
    rec.server = c.data;
    rec.deleted = !!c.deleted || pending.some((m) => m.op === "delete");
    rec.data = Object.assign({}, c.data, ...pending.map((m) => m.data));
    rec.visit_id = c.entity === "visit" ? c.id : rec.data.visit_id;
    if (older) rec.older = true;
    if (rec.conflicts && (c.entity === "finding" ? !c.data.has_conflict : c.version > (rec.conflict_version ?? 0))) {
      rec.conflicts = null;
    }
    await records.put(rec);
  }
}

// "Load older visits": the next page of visits before the phone's recent period, with what was
// recorded in them (GET /api/v1/sync/older, in the user's scope). Online only.
export async function loadOlder() {
  if (!navigator.onLine) return { ok: false, offline: true };
  const next = (await meta("older_next")) ?? { before: await meta("since") };
  if (next.done) return { ok: true, count: 0, more: false };
  const q = new URLSearchParams({ limit: "20" });
  if (next.before) q.set("before", next.before);
  if (next.before_id) q.set("before_id", next.before_id);
  try {
    const page = await json(await api(`/api/v1/sync/older?${q}`));
    const d = await db();
    const tx = d.transaction(["records", "outbox", "meta"], "readwrite");
    await storeChanges(tx, page.changes, { older: true });
    await tx.objectStore("meta").put(page.more ? page.next : { done: true }, "older_next");
    await tx.done;
    changed();
    return { ok: true, count: page.changes.filter((c) => c.entity === "visit").length, more: page.more };
  } catch (e) {
    // a failed fetch is the network (navigator.onLine can still say online): the offline message
    return e instanceof TypeError ? { ok: false, offline: true } : { ok: false, message: e.message };
  }
}

// The file an administrator can import: a push body plus the photos' bytes.
export async function exportUnsynced() {
  const d = await db();
  const items = await d.getAll("outbox");
  const photos = (await d.getAll("photos")).filter((p) => !p.uploaded);
  if (!items.length && !photos.length) return null;
  const enc = async (blob) => {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  };
  const body = {
    format: "supervision-unsynced-v1",
    exported_at: new Date().toISOString(),
    user_id: await meta("user_id"),
    device_id: await deviceId(),
    mutations: items.map(wire),
    rejected: Object.fromEntries(items.filter((m) => m.state === "rejected").map((m) => [m.mutation_id, m.error])),
    photos: await Promise.all(photos.map(async (p) => ({ sha256: p.sha256, content_type: p.type, data_base64: await enc(p.blob) }))),
  };
  return new Blob([JSON.stringify(body)], { type: "application/json" });
}
