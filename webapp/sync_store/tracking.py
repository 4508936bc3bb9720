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

from sqlalchemy import delete, event, inspect, text
from sqlalchemy.orm import Session, scoped_session

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
                     kind="server") -> None:
    session.info["sync_context"] = {"user_id": user_id, "device_id": device_id, "mutation_id": mutation_id,
                                    "client_time": client_time, "kind": kind}


def _changed_fields(spec, obj) -> dict:
    state = inspect(obj)
    changed = {}
    data = None
    for name in spec.fields:
        if name in state.attrs and state.attrs[name].history.has_changes():
            data = data or serialize(spec, obj)
            changed[name] = data[name] if name != "items" else None
    if state.attrs["deleted_at"].history.has_changes():
        changed["deleted"] = obj.deleted_at is not None
    return changed


def _before_flush(session: Session, _ctx, _instances):
    touched = []
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, TemplateItem):
            template = obj.template
            if template is not None and template not in session.new:
                touched.append((template, True))
            continue
        spec = BY_MODEL.get(type(obj))
        if spec is None:
            continue
        if obj in session.new:
            touched.append((obj, False))
        elif session.is_modified(obj, include_collections=False):
            touched.append((obj, True))
    if not touched:
        return
    if session.get_bind().dialect.name == "postgresql":
        lock_feed(session)
    ctx = session.info.get("sync_context") or {}
    seen = set()
    for obj, existing in touched:
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        spec = BY_MODEL[type(obj)]
        if obj.id is None:
            obj.id = new_id()
        if existing:
            obj.version = (obj.version or 0) + 1
            changed = _changed_fields(spec, obj)
        else:
            obj.version = obj.version or 1
            changed = serialize(spec, obj)
        dept, sup = spec.scope_keys(obj)
        session.execute(delete(Change).where(Change.entity == spec.name, Change.record_id == obj.id))
        session.add(Change(entity=spec.name, record_id=obj.id, version=obj.version,
                           deleted=obj.deleted_at is not None, department_id=dept, supervisor_id=sup,
                           changed_at=utcnow()))
        session.add(Revision(entity=spec.name, record_id=obj.id, version=obj.version,
                             kind=ctx.get("kind", "server"),
                             data={**serialize(spec, obj), "deleted": obj.deleted_at is not None}, changed=changed,
                             user_id=ctx.get("user_id"), device_id=ctx.get("device_id"),
                             mutation_id=ctx.get("mutation_id"), client_time=ctx.get("client_time"),
                             server_time=utcnow()))


def install_tracking() -> None:
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
