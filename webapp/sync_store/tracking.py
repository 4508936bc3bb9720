"""Every change to a synced record — from a phone's push, a manager's form, the seed — gets a new
`version`, a full revision in history, and a fresh place in the server-wide change sequence that
phones pull from. Done once, at flush and commit time, so no feature has to remember it.

Who made the change comes from `session.info["sync_context"]` (set by the sync engine and by the
request boundary); without one the revision is recorded as a server change.

Sequence order must equal commit order, or a pull could move its cursor past a change that commits
later with a lower number. So the versions and revisions are written at flush, but a record's row
in the change feed is written only when the transaction commits (`before_commit`): on PostgreSQL
under a transaction-scoped advisory lock taken right then and held for the moment to COMMIT; on
SQLite writers are serialized already (BEGIN IMMEDIATE). Nobody holding that lock waits for
anything else, so it cannot take part in a deadlock, and writers of different records never wait
for each other while they work. Rows flushed inside a savepoint that rolls back are forgotten.

A writer that did not read a record under a row lock (anything but the sync engine) has the record's
stored version checked at flush (`_check_versions`): a change that committed since it was read
raises StaleDataError, so a version number is never written twice.
"""

import click
from flask import g, has_app_context
from sqlalchemy import delete, event, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import get_history, instance_state
from sqlalchemy.orm.base import PassiveFlag
from sqlalchemy.orm.exc import StaleDataError

from sync.sql import among, insert_rows
from webapp.checklists.models import TemplateItem
from webapp.core.models import new_id, utcnow
from webapp.sync_store.entities import BY_MODEL, serialize
from webapp.sync_store.models import Change, Revision
from webapp.sync_store.scope_moves import MOVES, follow_owners, moved_rows

FEED_LOCK_KEY = 0x5E0C_F33D  # arbitrary constant: "the change feed"
PENDING = "sync_pending_changes"  # session.info: [(change row, savepoint it was flushed in, existed)]
CURRENT = "sync_current_rows"  # session.info: {(model, id)} read under a row lock in this transaction


def lock_feed(session: Session) -> None:
    """Take the change-feed lock (PostgreSQL) until this transaction ends: right before COMMIT.
    Also taken by whatever must be numbered in commit order with the feed (the tallies' epochs)."""
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": FEED_LOCK_KEY})


DEVICE_LOCK_SPACE = 0x5E0C  # first key of the two-key advisory locks: "a device's pushes"


def lock_device(session: Session, device_id: str) -> None:
    """Serialize one device's pushes (PostgreSQL), until commit: a retry waits for its original."""
    session.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:device))"),
                    {"space": DEVICE_LOCK_SPACE, "device": device_id or ""})


def mark_current(session: Session, records) -> None:
    """These records were read in this transaction under a row lock (PostgreSQL) or the writer lock
    (SQLite): their versions are current, so their next flush needs no version check."""
    current = session.info.setdefault(CURRENT, set())
    current.update((type(obj), obj.id) for obj in records if obj is not None)


def _check_versions(session: Session, touched: list) -> None:
    """Versions form one line whoever writes. A record changed by a writer that did not read it
    under a lock (a form in a request, a CLI command) must still be at the version it loaded: the
    row is locked (PostgreSQL) and compared, in one query per model. Otherwise StaleDataError —
    someone else's change committed in between — instead of a second revision with the same number."""
    current = session.info.get(CURRENT) or set()
    unchecked: dict[type, dict[str, object]] = {}
    for obj, existing in touched:
        if existing and (type(obj), obj.id) not in current:
            unchecked.setdefault(type(obj), {})[obj.id] = obj
    is_pg = session.get_bind().dialect.name == "postgresql"
    for model, objs in unchecked.items():
        stmt = select(model.id, model.version).where(among(model.id, sorted(objs)))
        if is_pg:
            stmt = stmt.with_for_update(key_share=True)
        stored = dict(session.execute(stmt).all())
        stale = sorted(pk for pk, obj in objs.items() if stored.get(pk) != obj.version)  # not bumped yet
        if stale:
            raise StaleDataError(f"{model.__tablename__} {', '.join(stale)}: changed by someone else since it was read")
        if session.get_nested_transaction() is None:  # a savepoint's row locks go with its rollback
            mark_current(session, objs.values())


def set_sync_context(session: Session, *, user_id=None, device_id=None, mutation_id=None, client_time=None,
                     kind="server", record: tuple[str, str] | None = None) -> None:
    """Who is changing records: every record from now on, or with `record=(entity, id)` only that
    one (the sync engine writes many mutations, each with its own context, in one flush)."""
    ctx = {"user_id": user_id, "device_id": device_id, "mutation_id": mutation_id, "client_time": client_time,
           "kind": kind}
    if record is None:
        session.info["sync_context"] = ctx
    else:
        session.info.setdefault("sync_record_context", {})[record] = ctx


def _ambient_context() -> dict:
    """Who is writing when nobody said so: the signed-in user of the request (set once per request,
    webapp/__init__.py), else the CLI command or the system."""
    if has_app_context() and "actor" in g:
        return g.actor()
    click_ctx = click.get_current_context(silent=True)
    if click_ctx is not None:
        return {"actor": f"cli:{click_ctx.info_name}"}
    return {"actor": "system"}


def clear_sync_context(session: Session) -> None:
    session.info.pop("sync_context", None)
    session.info.pop("sync_record_context", None)


def _changed_fields(spec, obj, data: dict) -> dict:
    # Only attributes set since the record was loaded can have changed (their old values are kept
    # in committed_state); history then tells whether the value really differs.
    touched = instance_state(obj).committed_state
    changed = {}
    for name in spec.fields:
        if name in touched and get_history(obj, name).has_changes():
            changed[name] = data[name] if name != "items" else None
    if "deleted_at" in touched and get_history(obj, "deleted_at").has_changes():
        changed["deleted"] = obj.deleted_at is not None
    return changed


def _is_modified(obj) -> bool:
    """`session.is_modified(obj, include_collections=False)`, asking only the attributes set since
    the record was loaded (their old values are in committed_state; no other can have changed) rather
    than each of the model's attributes."""
    state = instance_state(obj)
    if not state.modified:
        return False
    attributes = state.manager
    for key in state.committed_state:
        impl = attributes[key].impl
        if hasattr(impl, "get_collection") or not hasattr(impl, "get_history"):
            continue
        added, _unchanged, deleted = impl.get_history(state, state.dict, passive=PassiveFlag.NO_CHANGE)
        if added or deleted:
            return True
    return False


def _before_flush(session: Session, _ctx, _instances):
    follow_owners(session)
    touched = []
    new = session.new
    for obj in list(new) + list(session.dirty):
        if isinstance(obj, TemplateItem):
            template = obj.template
            if template is not None and template not in new:
                touched.append((template, True))
            continue
        spec = BY_MODEL.get(type(obj))
        if spec is None:
            continue
        if obj in new:
            touched.append((obj, False))
        elif _is_modified(obj):
            touched.append((obj, True))
    if not touched:
        return
    _check_versions(session, touched)
    default_ctx = session.info.get("sync_context") or _ambient_context()
    per_record = session.info.get("sync_record_context") or {}
    seen = set()
    changes, revisions = [], []
    now = utcnow()
    for obj, existing in touched:
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        spec = BY_MODEL[type(obj)]
        if obj.id is None:
            obj.id = new_id()
        ctx = per_record.get((spec.name, obj.id), default_ctx)
        data = serialize(spec, obj)
        if existing:
            obj.version = (obj.version or 0) + 1
            changed = _changed_fields(spec, obj, data)
        else:
            obj.version = obj.version or 1
            changed = dict(data)
        dept, sup = spec.scope_keys(obj)
        deleted = obj.deleted_at is not None
        changes.append(({"entity": spec.name, "record_id": obj.id, "version": obj.version, "deleted": deleted,
                         "department_id": dept, "supervisor_id": sup, "changed_at": now}, existing))
        revisions.append({"entity": spec.name, "record_id": obj.id, "version": obj.version,
                          "kind": ctx.get("kind", "server"), "data": {**data, "deleted": deleted},
                          "changed": changed, "user_id": ctx.get("user_id"), "device_id": ctx.get("device_id"),
                          "mutation_id": ctx.get("mutation_id"), "client_time": ctx.get("client_time"),
                          "server_time": now, "actor": ctx.get("actor") or ("device" if ctx.get("device_id") else "web")})
    if per_record:
        # Several mutations in one flush: the feed and history take them in the order they were sent.
        order = {key: n for n, key in enumerate(per_record)}
        last = len(order)
        changes.sort(key=lambda item: order.get((item[0]["entity"], item[0]["record_id"]), last))
        revisions.sort(key=lambda row: order.get((row["entity"], row["record_id"]), last))
    savepoint = session.get_nested_transaction()
    session.info.setdefault(PENDING, []).extend((row, savepoint, existing) for row, existing in changes)
    insert_rows(session, Revision.__table__, revisions)


def _before_commit(session: Session) -> None:
    """Write the transaction's rows of the change feed, each record's row moved to the end (a new
    seq), under the feed lock: the last thing before COMMIT."""
    if session.get_nested_transaction() is not None:
        return  # a savepoint: its rows belong to the enclosing transaction
    session.flush()
    moved = moved_rows(session)
    pending = session.info.pop(PENDING, None)
    if not pending and not moved:
        return
    rows: dict = {}
    existed: set = set()
    for row in moved:  # scope exits, then the records that moved, each to a new place
        key = (row["entity"], row["record_id"])
        if not row.pop("_new", False):
            existed.add(key)
        rows[key] = row
    for row, _savepoint, existing in pending or ():
        key = (row["entity"], row["record_id"])
        rows.pop(key, None)
        rows[key] = row
        if existing:
            existed.add(key)
    if session.get_bind().dialect.name == "postgresql":
        lock_feed(session)
    changes_t = Change.__table__
    moved: dict[str, list[str]] = {}
    for entity, record_id in rows:
        if (entity, record_id) in existed:  # a record created in this transaction has no row yet
            moved.setdefault(entity, []).append(record_id)
    for entity, ids in moved.items():
        for i in range(0, len(ids), 500):
            session.execute(delete(changes_t).where(changes_t.c.entity == entity,
                                                    among(changes_t.c.record_id, ids[i:i + 500])))
    insert_rows(session, changes_t, list(rows.values()))


def _after_soft_rollback(session: Session, transaction) -> None:
    """Forget the feed rows of what was rolled back: a savepoint's, or all of them."""
    pending = session.info.get(PENDING)
    if not pending:
        return
    boundary = transaction  # a failed flush's subtransaction rolls back its savepoint or the root
    while boundary.parent is not None and not boundary.nested:
        boundary = boundary.parent
    if boundary.parent is None:
        session.info.pop(PENDING, None)
        return

    def inside(tx) -> bool:
        while tx is not None:
            if tx is boundary:
                return True
            tx = tx.parent
        return False

    session.info[PENDING] = [item for item in pending if not inside(item[1])]


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING, None)
        session.info.pop(CURRENT, None)
        session.info.pop(MOVES, None)


def install_tracking() -> None:
    for name, listener in (("before_flush", _before_flush), ("before_commit", _before_commit),
                           ("after_soft_rollback", _after_soft_rollback),
                           ("after_transaction_end", _after_transaction_end)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
