"""Every change to a synced record — from a phone's push, a manager's form, the seed — gets a new
`version`, a full revision in history, and a fresh place in the server-wide change sequence that
phones pull from. Done once, at flush time, so no feature has to remember it.

Who made the change comes from `session.info["sync_context"]` (set by the sync engine and by the
request boundary); without one the revision is recorded as a server change.

XXX: sequence order must equal commit order, or a pull could move its cursor past a change that
commits later with a lower number. SQLite serializes writers already (BEGIN IMMEDIATE); on
PostgreSQL a transaction-scoped advisory lock, taken before the first sequence number is drawn
and held to commit, does the same for writers of synced records.
"""

from sqlalchemy import delete, event, insert, inspect, text
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.orm.attributes import get_history

from webapp.checklists.models import TemplateItem
from webapp.core.models import new_id, utcnow
from webapp.sync_store.entities import BY_MODEL, serialize
from webapp.sync_store.models import Change, Revision

FEED_LOCK_KEY = 0x5E0C_F33D  # arbitrary constant: "the change feed"


def lock_feed(session: Session) -> None:
    """Take the change-feed lock for this transaction (PostgreSQL), once: it is held to commit."""
    if isinstance(session, scoped_session):
        session = session()
    tx = session.get_transaction()
    if tx is not None and session.info.get("feed_locked_tx") is tx:
        return
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": FEED_LOCK_KEY})
    session.info["feed_locked_tx"] = session.get_transaction()


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


def clear_sync_context(session: Session) -> None:
    session.info.pop("sync_context", None)
    session.info.pop("sync_record_context", None)


def _changed_fields(spec, obj, data: dict) -> dict:
    # Only attributes set since the record was loaded can have changed (their old values are kept
    # in committed_state); history then tells whether the value really differs.
    touched = inspect(obj).committed_state
    changed = {}
    for name in spec.fields:
        if name in touched and get_history(obj, name).has_changes():
            changed[name] = data[name] if name != "items" else None
    if "deleted_at" in touched and get_history(obj, "deleted_at").has_changes():
        changed["deleted"] = obj.deleted_at is not None
    return changed


def _before_flush(session: Session, _ctx, _instances):
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
        elif session.is_modified(obj, include_collections=False):
            touched.append((obj, True))
    if not touched:
        return
    if session.get_bind().dialect.name == "postgresql":
        lock_feed(session)
    default_ctx = session.info.get("sync_context") or {}
    per_record = session.info.get("sync_record_context") or {}
    seen = set()
    changes, revisions = [], []
    moved: dict[str, list[str]] = {}
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
        if existing:  # a new record has no row in the feed yet
            moved.setdefault(spec.name, []).append(obj.id)
        changes.append({"entity": spec.name, "record_id": obj.id, "version": obj.version, "deleted": deleted,
                        "department_id": dept, "supervisor_id": sup, "changed_at": now})
        revisions.append({"entity": spec.name, "record_id": obj.id, "version": obj.version,
                          "kind": ctx.get("kind", "server"), "data": {**data, "deleted": deleted},
                          "changed": changed, "user_id": ctx.get("user_id"), "device_id": ctx.get("device_id"),
                          "mutation_id": ctx.get("mutation_id"), "client_time": ctx.get("client_time"),
                          "server_time": now})
    if per_record:
        # Several mutations in one flush: the feed and history take them in the order they were sent.
        order = {key: n for n, key in enumerate(per_record)}
        last = len(order)
        changes.sort(key=lambda row: order.get((row["entity"], row["record_id"]), last))
        revisions.sort(key=lambda row: order.get((row["entity"], row["record_id"]), last))
    # The record's row in the change feed moves to the end: delete it and insert it again (new seq).
    changes_t, revisions_t = Change.__table__, Revision.__table__
    for entity, ids in moved.items():
        session.execute(delete(changes_t).where(changes_t.c.entity == entity, changes_t.c.record_id.in_(ids)))
    session.execute(insert(changes_t), changes)
    session.execute(insert(revisions_t), revisions)


def install_tracking() -> None:
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
