"""The sync engine: push (apply a device's mutations) and pull (the change feed), on a session it
is given. Versions, revisions and the change feed are written by the flush hook of the store
(webapp/sync_store/tracking.py); the engine only changes records and says who is changing them.

Serialization of writers: the caller's transaction must be a writer on SQLite (BEGIN IMMEDIATE,
so two pushes queue instead of failing with "database is locked"); on PostgreSQL the engine takes
the change-feed advisory lock *first* (before any row lock, so lock order is the same in every
transaction and two pushes cannot deadlock) and then locks each record row FOR UPDATE.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError

from sync.merge import CONFLICT, ILLEGAL, TAKE, merge_delete, merge_scalar, merge_set, merge_status

APPLIED, MERGED, CONFLICTED, DUPLICATE, REJECTED, BLOCKED = (
    "applied", "merged", "conflict", "duplicate", "rejected", "blocked")
ACCEPTED_STATUSES = (APPLIED, MERGED, CONFLICTED)
DELETED = "deleted"  # the pseudo-field a delete-vs-edit conflict is recorded under


class Rejection(Exception):
    """A mutation that cannot be applied as sent: validation or permission failure."""

    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


class Policy(Protocol):
    """What the application decides; the engine stays free of web and model specifics."""

    def validate(self, spec, data: dict, *, creating: bool) -> dict:
        """Typed values for the wire fields in `data`; raises Rejection with field errors."""

    def authorize(self, user, spec, obj, values: dict, *, creating: bool, deleting: bool) -> None:
        """Raises Rejection when `user` may not make this change."""

    def derive(self, user, spec, obj, *, creating: bool) -> None:
        """Fill fields the server owns (scope keys copied from the parent, the author)."""

    def transitions(self, spec, field_name: str) -> dict | None:
        """The transition table of a workflow status field, else None."""

    def photo_fields(self, spec) -> tuple[str, ...]:
        """Set fields that hold photo hashes."""

    def missing_photos(self, hashes: set[str]) -> list[str]:
        """Which of these hashes the photo store does not have."""

    def change_scope(self, user):
        """WHERE clause on the Change model: what this user pulls."""

    def serialize(self, spec, obj) -> dict:
        """The record's wire data."""

    def load_options(self, spec) -> list:
        """Loader options for pulling many records of this entity at once."""

    def scope_keys(self, spec, obj) -> tuple[str | None, str | None]:
        """(department_id, supervisor_id) of a record, for the conflict list's scope."""

    def set_context(self, session, **context) -> None:
        """Tell the flush hook who is changing records (user, device, mutation, client time, kind)."""

    def resolution_error(self, errors: dict) -> Exception:
        """The exception raised for a bad resolution value."""

    def message(self, key: str) -> str:
        """A message for the user, in their language (keys: entity, unknown_record, future_version,
        illegal_transition, blocked, integrity, boolean)."""


@dataclass
class Store:
    """The bookkeeping models of the sync store."""

    change: type
    revision: type
    mutation: type
    conflict: type
    lock_feed: Any  # callable(session): take the change-feed lock for this transaction (PostgreSQL)


def wire(value):
    """One canonical wire form, so the same value compares equal whoever sent it."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass
class Mutation:
    mutation_id: str
    entity: str
    id: str
    op: str
    base_version: int
    data: dict
    client_time: datetime | None = None


@dataclass
class Result:
    mutation_id: str
    id: str | None
    status: str
    version: int | None = None
    conflicts: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    missing_photos: list = field(default_factory=list)
    sent_sets: dict = field(default_factory=dict)  # kept with the applied mutation, never sent back

    def stored(self) -> dict:
        return {**self.as_dict(), "_sets": self.sent_sets}

    def as_dict(self) -> dict:
        return {"mutation_id": self.mutation_id, "id": self.id, "status": self.status, "version": self.version,
                "conflicts": self.conflicts, "errors": self.errors, "missing_photos": self.missing_photos}


def _fill_defaults(obj, spec) -> None:
    """Column defaults now, not at INSERT, so version 1's revision shows the record as stored."""
    for column in type(obj).__table__.columns:
        name = column.key
        if (name in spec.fields or name == "has_conflict") and getattr(obj, name, None) is None \
                and column.default is not None:
            default = column.default
            if default.is_scalar:
                setattr(obj, name, default.arg)
            elif default.is_callable:
                setattr(obj, name, default.arg(None))


class SyncEngine:
    def __init__(self, session, entities: dict, store: Store, policy: Policy):
        self.session = session
        self.entities = entities
        self.store = store
        self.policy = policy
        self.is_pg = session.get_bind().dialect.name == "postgresql"

    # ---- push ------------------------------------------------------------------------------

    def lock_feed(self) -> None:
        if self.is_pg:
            self.store.lock_feed(self.session)

    def push(self, user, device_id: str, mutations: list) -> list[dict]:
        """Apply mutations in order, each in its own savepoint. Items of `mutations` are Mutation
        objects or Rejection (a mutation whose envelope did not validate). Flushes, never commits."""
        self.lock_feed()
        results = []
        failed_records: set[tuple[str, str]] = set()
        real = [m for m in mutations if isinstance(m, Mutation)]
        # After the lock: what earlier pushes applied is now visible, so a retry racing its
        # original cannot pass this check twice.
        M = self.store.mutation
        first_results = dict(self.session.execute(
            select(M.mutation_id, M.result).where(M.mutation_id.in_(sorted({m.mutation_id for m in real}))))
            .all()) if real else {}
        self._prefetch(real)
        self._batch_sets: dict[str, dict] = {}
        applied_rows = []
        for m in mutations:
            if isinstance(m, tuple):  # (mutation_id, id, Rejection) from envelope validation
                mutation_id, record_id, rejection = m
                results.append(Result(mutation_id, record_id, REJECTED, errors=rejection.errors).as_dict())
                continue
            key = (m.entity, m.id)
            first = first_results.get(m.mutation_id)
            if first is not None:
                res = {k: v for k, v in first.items() if k != "_sets"}
                res["status"], res["first_status"] = DUPLICATE, first["status"]
                res["missing_photos"] = self._missing_photos(m)
                results.append(res)
                continue
            if key in failed_records:
                results.append(Result(m.mutation_id, m.id, BLOCKED, errors={
                    "mutation_id": [self.policy.message("blocked")]}).as_dict())
                continue
            try:
                with self.session.begin_nested(), self.session.no_autoflush:
                    # No autoflush: a lookup halfway through must not write half a mutation
                    # as a version of its own.
                    result = self._apply(user, device_id, m)
                    self.session.flush()
            except Rejection as e:
                result = Result(m.mutation_id, m.id, REJECTED, errors=e.errors)
            except SQLAlchemyError:
                # A constraint the checks above did not foresee (e.g. a second answer to the same
                # checklist item): the savepoint is gone, the device keeps the mutation.
                result = Result(m.mutation_id, m.id, REJECTED,
                                errors={"id": [self.policy.message("integrity")]})
            if result.status == REJECTED:
                failed_records.add(key)
                current = self.session.get(self.entities[m.entity].model, m.id) if m.entity in self.entities else None
                result.version = current.version if current is not None else None
            else:
                # Recorded in this same transaction (written below, committed with the effects).
                stored = result.stored()
                first_results[m.mutation_id] = stored
                self._batch_sets[m.mutation_id] = stored
                self._missing.discard(key)
                applied_rows.append({"mutation_id": m.mutation_id, "device_id": device_id, "user_id": user.id,
                                     "entity": m.entity, "record_id": m.id, "result": stored,
                                     "applied_at": datetime.now(UTC)})
                result.missing_photos = self._missing_photos(m)
            results.append(result.as_dict())
        if applied_rows:
            self.session.execute(insert(M), applied_rows)
        self.policy.set_context(self.session)
        return results

    def _prefetch(self, mutations: list) -> None:
        """Load (and on PostgreSQL lock) every record the batch touches, one query per entity."""
        by_entity = defaultdict(set)
        for m in mutations:
            if m.entity in self.entities:
                by_entity[m.entity].add(m.id)
        self._missing = set()
        for entity, ids in by_entity.items():
            model = self.entities[entity].model
            stmt = select(model).where(model.id.in_(sorted(ids))).execution_options(populate_existing=True)
            if self.is_pg:
                stmt = stmt.with_for_update()
            found = {obj.id for obj in self.session.scalars(stmt).all()}
            self._missing.update((entity, pk) for pk in ids - found)

    def _missing_photos(self, m: Mutation) -> list[str]:
        spec = self.entities.get(m.entity)
        if spec is None:
            return []
        hashes = set()
        for name in self.policy.photo_fields(spec):
            value = m.data.get(name)
            if isinstance(value, list):
                hashes.update(h for h in value if isinstance(h, str))
        return sorted(self.policy.missing_photos(hashes)) if hashes else []

    def _get_for_update(self, model, pk):
        return self.session.get(model, pk, with_for_update=self.is_pg or None, populate_existing=True)

    def _apply(self, user, device_id: str, m: Mutation) -> Result:
        spec = self.entities.get(m.entity)
        if spec is None or not spec.pushable:
            raise Rejection({"entity": [self.policy.message("entity")]})
        self.policy.set_context(self.session, user_id=user.id, device_id=device_id, mutation_id=m.mutation_id,
                                client_time=m.client_time, kind="accepted")
        # Prefetched (and locked) by push(); a record known to be missing needs no query.
        obj = None if (m.entity, m.id) in self._missing else self.session.get(spec.model, m.id)
        deleting = m.op == "delete"
        if obj is None:
            if deleting or m.base_version != 0:
                raise Rejection({"id": [self.policy.message("unknown_record")]})
            values = self.policy.validate(spec, m.data, creating=True)
            obj = spec.model(id=m.id)
            for name, value in values.items():
                setattr(obj, name, value)
            _fill_defaults(obj, spec)
            self.policy.derive(user, spec, obj, creating=True)
            self.policy.authorize(user, spec, obj, values, creating=True, deleting=False)
            self.session.add(obj)
            self.session.flush()
            return Result(m.mutation_id, m.id, APPLIED, version=obj.version,
                          sent_sets={k: sorted(set(v or ())) for k, v in values.items() if k in spec.set_fields})

        if m.base_version > obj.version:
            raise Rejection({"base_version": [self.policy.message("future_version")]})
        values = {} if deleting else self.policy.validate(spec, m.data, creating=False)
        self.policy.authorize(user, spec, obj, values, creating=False, deleting=deleting)
        base, others, others_any = self._since_base(spec, obj, m.base_version, device_id)
        conflicts = []
        merged = others_any

        if deleting:
            out = merge_delete(others_changed_anything=others_any, already_deleted=obj.deleted_at is not None)
            if out.action == TAKE:
                obj.deleted_at = datetime.now(UTC)
            elif out.action == CONFLICT:
                conflicts.append({"field": DELETED, "server": False, "client": True, "base": False})
        else:
            proposed = {}
            for name, value in values.items():
                client = wire(value)
                server = self._wire_field(spec, obj, name)
                if name in spec.set_fields:
                    out = merge_set(base.get(name), server, client)
                    if out.action == TAKE:
                        setattr(obj, name, out.value)
                    if sorted(set(client or ())) != out.value:
                        merged = True
                    continue
                table = self.policy.transitions(spec, name)
                if table is not None:
                    out = merge_status(base.get(name), server, client, table, others_changed=name in others)
                    if out.action == ILLEGAL:
                        raise Rejection({name: [self.policy.message("illegal_transition")]})
                else:
                    out = merge_scalar(base.get(name), server, client, others_changed=name in others)
                if out.action == TAKE:
                    setattr(obj, name, value)
                elif out.action == CONFLICT:
                    conflicts.append({"field": name, "server": server, "client": client, "base": base.get(name)})
                    proposed[name] = client
            if obj.deleted_at is not None:
                # Edited on the device after someone deleted it: the edit is kept on the
                # tombstone and a person decides whether the record comes back.
                conflicts.append({"field": DELETED, "server": True, "client": False,
                                  "base": bool(base.get(DELETED, False))})
            self.policy.derive(user, spec, obj, creating=False)

        if conflicts:
            obj.has_conflict = True
        self.session.flush()
        if conflicts:
            self._record_conflicts(user, device_id, m, spec, obj, conflicts)
        status = CONFLICTED if conflicts else (MERGED if merged else APPLIED)
        return Result(m.mutation_id, m.id, status, version=obj.version, conflicts=conflicts,
                      sent_sets={k: sorted(set(v or ())) for k, v in values.items() if k in spec.set_fields})

    def _wire_field(self, spec, obj, name):
        value = getattr(obj, name)
        if name in spec.set_fields:
            return sorted(value or [])
        return wire(value)

    def _since_base(self, spec, obj, base_version: int, device_id: str):
        """(base values, fields others changed since base, whether others changed anything).

        Changes this same device made after its base (earlier mutations of one batch, all sent
        with the base the device last saw) are not concurrent edits.
        """
        if base_version == obj.version:
            current = {name: self._wire_field(spec, obj, name) for name in spec.fields if name != "items"}
            current[DELETED] = obj.deleted_at is not None
            return current, set(), False
        Rev = self.store.revision
        revs = self.session.execute(
            select(Rev.version, Rev.device_id, Rev.changed, Rev.data, Rev.mutation_id)
            .where(Rev.entity == spec.name, Rev.record_id == obj.id, Rev.version >= base_version,
                   Rev.kind != "conflict")
            .order_by(Rev.version, Rev.id)
        ).all()
        base: dict = {}
        others: set[str] = set()
        others_any = False
        own_mutations = []
        for version, rev_device, changed, data, mutation_id in revs:
            if version == base_version:
                base = dict(data or {})
                continue
            if device_id is None or rev_device != device_id:
                others.update((changed or {}).keys())
                others_any = True
            elif mutation_id and spec.set_fields:
                own_mutations.append(mutation_id)
        if own_mutations:
            # For a set, the device's view when it sent this mutation is what it sent last, not
            # the stored base: removing a photo it added itself a moment ago must work.
            M = self.store.mutation
            sent = {mid: self._batch_sets[mid] for mid in own_mutations if mid in getattr(self, "_batch_sets", {})}
            missing = [mid for mid in own_mutations if mid not in sent]
            if missing:
                sent.update(self.session.execute(select(M.mutation_id, M.result).where(M.mutation_id.in_(missing))).all())
            for mutation_id in own_mutations:
                for name, value in ((sent.get(mutation_id) or {}).get("_sets") or {}).items():
                    base[name] = value
        return base, others, others_any

    def _record_conflicts(self, user, device_id, m: Mutation, spec, obj, conflicts: list) -> None:
        dept, sup = self.policy.scope_keys(spec, obj)
        data = self.policy.serialize(spec, obj)
        losing = {c["field"]: c["client"] for c in conflicts}
        now = datetime.now(UTC)
        # The losing side goes into history too: nothing the device sent is lost.
        self.session.add(self.store.revision(
            entity=spec.name, record_id=obj.id, version=obj.version, kind="conflict", data={**data, **losing},
            changed=losing, user_id=user.id, device_id=device_id, mutation_id=m.mutation_id,
            client_time=m.client_time, server_time=now))
        for c in conflicts:
            row = self.store.conflict(
                entity=spec.name, record_id=obj.id, field=c["field"], base=c["base"], server=c["server"],
                client=c["client"], mutation_id=m.mutation_id, user_id=user.id, device_id=device_id,
                client_time=m.client_time, created_at=now, status="open", department_id=dept, supervisor_id=sup)
            self.session.add(row)
            self.session.flush()
            c["id"] = row.id
        self.session.flush()

    # ---- conflicts ---------------------------------------------------------------------------

    def resolve(self, user, conflict, choice: str, value: Any = None):
        """Settle one open conflict: a new version (kind "resolution") every device pulls.
        Both sides stay in history. Flushes, never commits."""
        self.lock_feed()
        spec = self.entities[conflict.entity]
        obj = self._get_for_update(spec.model, conflict.record_id)
        self.policy.set_context(self.session, user_id=user.id, kind="resolution")
        if choice == "server":
            chosen = self._wire_field(spec, obj, conflict.field) if conflict.field != DELETED \
                else obj.deleted_at is not None
        elif choice == "client":
            chosen = conflict.client
        else:
            chosen = value
        if conflict.field == DELETED:
            if not isinstance(chosen, bool):
                raise self.policy.resolution_error({"value": [self.policy.message("boolean")]})
            if chosen and obj.deleted_at is None:
                obj.deleted_at = datetime.now(UTC)
            elif not chosen:
                obj.deleted_at = None
        else:
            try:
                typed = self.policy.validate(spec, {conflict.field: chosen}, creating=False)
            except Rejection as e:
                raise self.policy.resolution_error(
                    {"value": e.errors.get(conflict.field, list(e.errors.values()))}) from None
            setattr(obj, conflict.field, typed[conflict.field])
        conflict.status = "resolved"
        conflict.resolved_by = user.id
        conflict.resolved_at = datetime.now(UTC)
        conflict.resolution = {"choice": choice, "value": wire(chosen)}
        self.session.flush()
        C = self.store.conflict
        still_open = self.session.scalar(
            select(C.id).where(C.entity == conflict.entity, C.record_id == conflict.record_id, C.status == "open")
            .limit(1))
        obj.has_conflict = still_open is not None
        obj.updated_at = datetime.now(UTC)  # a resolution is always a new version, even "keep the server's"
        self.session.flush()
        self.policy.set_context(self.session)
        return obj

    # ---- pull --------------------------------------------------------------------------------

    def pull(self, user, cursor: int | None, limit: int) -> dict:
        Change = self.store.change
        q = select(Change).where(self.policy.change_scope(user)).order_by(Change.seq).limit(limit + 1)
        if cursor:
            q = q.where(Change.seq > cursor)
        else:
            q = q.where(Change.deleted.is_(False))  # a fresh device needs no tombstones
        rows = self.session.scalars(q).all()
        more = len(rows) > limit
        rows = rows[:limit]
        by_entity = defaultdict(list)
        for row in rows:
            by_entity[row.entity].append(row.record_id)
        records = {}
        for entity, ids in by_entity.items():
            spec = self.entities[entity]
            stmt = select(spec.model).where(spec.model.id.in_(ids)).options(*self.policy.load_options(spec))
            for obj in self.session.scalars(stmt):
                records[(entity, obj.id)] = obj
        changes = []
        for row in rows:
            obj = records.get((row.entity, row.record_id))
            if obj is None:
                continue
            spec = self.entities[row.entity]
            data = self.policy.serialize(spec, obj)
            if not spec.reference:
                data["has_conflict"] = bool(obj.has_conflict)
            changes.append({"entity": row.entity, "id": obj.id, "version": obj.version,
                            "deleted": obj.deleted_at is not None, "has_conflict": bool(obj.has_conflict),
                            "data": data})
        next_cursor = rows[-1].seq if rows else (cursor or 0)
        return {"changes": changes, "cursor": next_cursor, "more": more}
