// Unsynced counts and "is this record synced?" — a record is synced only when it has no pending
// mutation and every photo it refers to is confirmed by the server.
import { db } from "./db.js";

export function changed() {
  window.dispatchEvent(new Event("store-changed"));
}

// A change the user made was queued to go out: an online phone sends it shortly (main.js).
export function queuedToSend() {
  window.dispatchEvent(new Event("outbox-queued"));
}

export async function unsyncedCount() {
  const d = await db();
  const [n, photos] = await Promise.all([d.count("outbox"), d.getAll("photos")]);
  return n + photos.filter((p) => !p.uploaded).length;
}

export async function recordState(rec) {
  const d = await db();
  const pending = await d.getAllFromIndex("outbox", "key", rec.key);
  const rejected = pending.find((m) => m.state === "rejected");
  if (rejected) return { state: "rejected", item: rejected };
  // A conflict is open until a manager resolves it (findings carry has_conflict on the wire).
  const open = rec.entity === "finding" ? rec.data.has_conflict === true || (rec.conflicts?.length && rec.data.has_conflict !== false)
    : rec.conflicts?.length;
  if (open && !pending.length) return { state: "conflict", conflicts: rec.conflicts ?? [] };
  if (pending.length) return { state: "pending" };
  for (const sha of rec.data.photos ?? []) {
    const p = await d.get("photos", sha);
    if (p && !p.uploaded) return { state: "pending" };
  }
  return { state: "synced" };
}

// A visit is synced only when every record in it is: the worst state of them all.
const RANK = { synced: 0, pending: 1, conflict: 2, rejected: 3 };
export async function visitState(rows) {
  let worst = { state: "synced" };
  for (const r of rows) {
    const st = await recordState(r);
    if (RANK[st.state] > RANK[worst.state]) worst = { state: st.state };
  }
  return worst;
}
