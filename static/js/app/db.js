// IndexedDB: the phone's whole state. Stores:
//   records  key "entity:id" → {key, entity, id, version, data, visit_id, conflicts, error}
//   outbox   seq (auto) → {seq, key, mutation_id, entity, id, op, base_version, data, client_time, state, error}
//   photos   sha256 → {sha256, blob, type, size, uploaded, created}
//   meta     key → value (device_id, cursor, user, last_sync)
import { openDB } from "/static/vendor/idb-8.0.4.js";

let dbp;
export function db() {
  dbp ??= openDB("supervision", 1, {
    upgrade(d) {
      const r = d.createObjectStore("records", { keyPath: "key" });
      r.createIndex("entity", "entity");
      r.createIndex("visit", "visit_id");
      const o = d.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
      o.createIndex("key", "key");
      d.createObjectStore("photos", { keyPath: "sha256" });
      d.createObjectStore("meta");
    },
  });
  return dbp;
}

export const keyOf = (entity, id) => `${entity}:${id}`;

export async function meta(name, value) {
  const d = await db();
  if (value === undefined) return d.get("meta", name);
  await d.put("meta", value, name);
  return value;
}

export async function deviceId() {
  let id = await meta("device_id");
  if (!id) id = await meta("device_id", crypto.randomUUID());
  return id;
}

export async function get(entity, id) {
  return (await db()).get("records", keyOf(entity, id));
}

export async function all(entity) {
  return (await db()).getAllFromIndex("records", "entity", entity);
}

export async function forVisit(visitId, entity) {
  const rows = await (await db()).getAllFromIndex("records", "visit", visitId);
  return entity ? rows.filter((r) => r.entity === entity) : rows;
}

export async function photo(sha) {
  return (await db()).get("photos", sha);
}

export async function wipe() {
  const d = await db();
  const tx = d.transaction(["records", "outbox", "photos", "meta"], "readwrite");
  await Promise.all([...["records", "outbox", "photos", "meta"].map((s) => tx.objectStore(s).clear()), tx.done]);
}
