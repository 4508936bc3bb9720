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

// A record's state from what the phone holds: its queued mutations (in the order queued) and the
// photos it refers to (`photo(sha)`: the stored photo, or undefined).
function stateOf(rec, pending, photo) {
  const rejected = pending.find((m) => m.state === "rejected");
  if (rejected) return { state: "rejected", item: rejected };
  // A conflict is open until a manager resolves it (findings carry has_conflict on the wire).
  const open = rec.entity === "finding" ? rec.data.has_conflict === true || (rec.conflicts?.length && rec.data.has_conflict !== false)
    : rec.conflicts?.length;
  if (open && !pending.length) return { state: "conflict", conflicts: rec.conflicts ?? [] };
  if (pending.length) return { state: "pending" };
  for (const sha of rec.data.photos ?? []) {
    const p = photo(sha);
    if (p && !p.uploaded) return { state: "pending" };
  }
  return { state: "synced" };
}

export async function recordState(rec) {
  const d = await db();
  const [pending, photos] = await Promise.all([d.getAllFromIndex("outbox", "key", rec.key),
    Promise.all((rec.data.photos ?? []).map((sha) => d.get("photos", sha)))]);
  const bySha = new Map(photos.filter(Boolean).map((p) => [p.sha256, p]));
  return stateOf(rec, pending, (sha) => bySha.get(sha));
}

// The outbox by record and the photos that `rows` refer to, read once for all of them.
async function holdings(rows) {
  const d = await db();
  const tx = d.transaction(["outbox", "photos"]);
  const shas = [...new Set(rows.flatMap((r) => r.data.photos ?? []))];
  const [queued, photos] = await Promise.all([tx.objectStore("outbox").getAll(),
    Promise.all(shas.map((sha) => tx.objectStore("photos").get(sha)))]);
  const byKey = new Map();
  for (const m of queued) (byKey.get(m.key) ?? byKey.set(m.key, []).get(m.key)).push(m);
  const bySha = new Map(photos.filter(Boolean).map((p) => [p.sha256, p]));
  return { pendingOf: (key) => byKey.get(key) ?? [], photo: (sha) => bySha.get(sha) };
}

// A visit is synced only when every record in it is: the worst state of them all.
const RANK = { synced: 0, pending: 1, conflict: 2, rejected: 3 };
function worstOf(rows, { pendingOf, photo }) {
  let worst = "synced";
  for (const r of rows) {
    const st = stateOf(r, pendingOf(r.key), photo).state;
    if (RANK[st] > RANK[worst]) worst = st;
  }
  return { state: worst };
}

export async function visitState(rows) {
  return worstOf(rows, await holdings(rows));
}

// Many visits' states at once (the home list): every visit's records in one transaction, the outbox and
// the photos in another, rather than a read per visit and per record — a supervisor's phone holds
// dozens of visits, and those reads were most of an offline reload.
export async function visitStates(visitIds) {
  const tx = (await db()).transaction("records");
  const index = tx.objectStore("records").index("visit");
  const perVisit = await Promise.all(visitIds.map((id) => index.getAll(id)));
  const held = await holdings(perVisit.flat());
  return new Map(visitIds.map((id, i) => [id, worstOf(perVisit[i], held)]));
}
