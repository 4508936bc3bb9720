// Every change is written together with its outbox mutation in ONE IndexedDB transaction, so a
// change can never exist on the phone without the mutation that will send it (and vice versa).
import { db, keyOf } from "./db.js";
import { changed, queuedToSend } from "./status.js";

const nowIso = () => new Date().toISOString();

// A not-yet-sent mutation of the same record absorbs the new change (fewer round trips). One that
// was ever sent keeps its mutation_id untouched (a retry must be an exact duplicate), except a
// rejected one: the user's fix goes out as a fresh mutation.
function absorbable(item, op) {
  return item && item.op === op && (!item.attempted || item.state === "rejected");
}

// `after: true` puts the record's change after everything queued so far (a visit's completion must
// reach the server after the answers it counts): an unsent mutation of the record absorbs it and
// moves to the end of the outbox (never sent, so nothing has seen its place).
export async function save(entity, id, changes, { photos = [], op = "upsert", after = false } = {}) {
  const d = await db();
  const tx = d.transaction(["records", "outbox", "photos"], "readwrite");
  const records = tx.objectStore("records");
  const outbox = tx.objectStore("outbox");
  const key = keyOf(entity, id);
  const rec = (await records.get(key)) ?? { key, entity, id, version: 0, data: {}, server: null };
  rec.data = { ...rec.data, ...changes };
  rec.visit_id = entity === "visit" ? id : rec.data.visit_id;
  rec.error = null;
  rec.local_at = Date.now();
  await records.put(rec);
  for (const p of photos) await tx.objectStore("photos").put(p);
  const queued = await outbox.index("key").getAll(key);
  const last = queued.at(-1);
  if (absorbable(last, op)) {
    if (last.state === "rejected") {
      last.mutation_id = crypto.randomUUID();
      last.attempted = false;
    }
    Object.assign(last, { data: { ...last.data, ...changes }, state: "queued", error: null, client_time: nowIso() });
    if (after) {
      await outbox.delete(last.seq);
      delete last.seq;
      await outbox.add(last);
    } else {
      await outbox.put(last);
    }
  } else {
    // While earlier edits of this record wait in the outbox, the screen shows them laid over the
    // version they were made on, so a new edit rests on that same base (a pull alone never moves it).
    await outbox.add({
      key, mutation_id: crypto.randomUUID(), entity, id, op,
      base_version: queued.length ? queued[0].base_version : rec.version,
      data: { ...changes }, client_time: nowIso(), state: "queued", attempted: false, error: null,
    });
  }
  await tx.done;
  changed();
  queuedToSend();
  return rec;
}

// Delete a record. One the server has never seen just disappears with its unsent changes; any other
// is hidden here at once and a delete mutation goes out (the server keeps it in the history, and a
// delete that meets someone else's edit becomes a conflict, never a silent loss).
export async function remove(entity, id) {
  const d = await db();
  const tx = d.transaction(["records", "outbox"], "readwrite");
  const records = tx.objectStore("records");
  const outbox = tx.objectStore("outbox");
  const key = keyOf(entity, id);
  const rec = await records.get(key);
  const queued = await outbox.index("key").getAll(key);
  const neverSent = rec && !rec.server && queued.every((m) => !m.attempted);
  if (neverSent) {
    for (const m of queued) await outbox.delete(m.seq);
    await records.delete(key);
  } else if (rec) {
    Object.assign(rec, { deleted: true, error: null, local_at: Date.now() });
    await records.put(rec);
    await outbox.add({
      key, mutation_id: crypto.randomUUID(), entity, id, op: "delete",
      base_version: queued.length ? queued[0].base_version : rec.version,
      data: {}, client_time: nowIso(), state: "queued", attempted: false, error: null,
    });
  }
  await tx.done;
  changed();
  if (!neverSent) queuedToSend();
  return { sent: !neverSent };
}

export async function pendingFor(key) {
  return (await db()).getAllFromIndex("outbox", "key", key);
}

export async function allPending() {
  return (await db()).getAll("outbox");
}

// Drop an unsynced (typically rejected) change: the record goes back to what the server last said.
export async function discard(seq) {
  const d = await db();
  const tx = d.transaction(["records", "outbox"], "readwrite");
  const item = await tx.objectStore("outbox").get(seq);
  if (item) {
    await tx.objectStore("outbox").delete(seq);
    const rest = await tx.objectStore("outbox").index("key").getAll(item.key);
    const rec = await tx.objectStore("records").get(item.key);
    if (rec) {
      if (!rec.server && !rest.length) await tx.objectStore("records").delete(item.key);
      else {
        rec.data = Object.assign({}, rec.server, ...rest.map((m) => m.data));
        rec.error = null;
        await tx.objectStore("records").put(rec);
      }
    }
  }
  await tx.done;
  changed();
}

// After a crash or a closed tab mid-sync, nothing may stay stuck as "sending".
export async function recover() {
  const d = await db();
  const tx = d.transaction("outbox", "readwrite");
  for (const item of await tx.store.getAll()) {
    if (item.state === "sending") { item.state = "queued"; await tx.store.put(item); }
  }
  await tx.done;
}
