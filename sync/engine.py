"""The sync engine: push (apply a device's mutations) and pull (the change feed), on a session it
is given. Versions, revisions and the change feed are written by the hooks of the store
(webapp/sync_store/tracking.py); the engine only changes records and says who is changing them.

Serialization of writers: the caller's transaction must be a writer on SQLite (BEGIN IMMEDIATE,
so two pushes queue instead of failing with "database is locked"). On PostgreSQL a push first
takes its device's advisory lock (a retry waits for the push it repeats, then finds its mutations
applied), then locks the rows of every record it touches (FOR NO KEY UPDATE, one entity after
another in name order, rows in id order, so two pushes cannot deadlock), and only then reads what
was applied and what is stored. Pushes to different records run side by side; the change feed's
own lock is taken by the store at commit, for a moment. A deadlock with some other writer or a
racing duplicate create is an error the caller retries (the whole push, from the start).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import insert, inspect, select
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

    def read_only(self, user, spec, name: str) -> str | None:
        """A message key when `name` is not the device's to change (a change to it is refused)."""

    def applied(self, user, spec, obj, *, creating: bool) -> None:
        """What the matching desk operation does beside writing the record (e.g. its audit entry)."""

    def exits(self, user, rows) -> list[dict]:
        """Deletion markers for what these scope-exit rows of the feed took out of `user`'s scope."""

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

    def set_context(self, session, *, record: tuple[str, str] | None = None, **context) -> None:
        """Tell the flush hook who is changing records (user, device, mutation, client time, kind):
        for every record, or with `record=(entity, id)` for that record only (several mutations
        written in one flush). Without arguments: forget every context."""

    def prefetch(self, session, items: list) -> None:
        """Load at once what authorize/derive will look up for these (spec, record or None, values)."""

    def remember(self, session, obj) -> None:
        """A record created in this push (maybe not flushed yet): look-ups must find it."""

    def forget(self, session) -> None:
        """Drop what prefetch/remember hold (end of a push, or after a savepoint rollback)."""

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
    lock_device: Any  # callable(session, device_id): serialize one device's pushes (PostgreSQL)
    mark_current: Any  # callable(session, records): read under a row lock in this transaction


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
        self._records: dict = {}
        self._values: dict = {}
        self._history: dict = {}
        self._batch_sets: dict = {}
        self._prevalidated: dict = {}

    # ---- push ------------------------------------------------------------------------------

    def lock_record(self, entity: str, record_id: str):
        """The record, re-read and (PostgreSQL) locked for this transaction."""
        return self._get_for_update(self.entities[entity].model, record_id)

    def push(self, user, device_id: str, mutations: list, *, batched: bool = True) -> list[dict]:
        """Apply mutations in order. Items of `mutations` are Mutation objects or (mutation_id, id,
        Rejection) for a mutation whose envelope did not validate. Flushes, never commits.

        The batch is cut into segments of consecutive mutations that touch distinct records and
        carry distinct mutation ids. A segment is applied in memory and written in one flush inside
        one savepoint; if that flush fails (a constraint the checks did not foresee), the segment is
        rolled back and redone one mutation per savepoint, which gives each mutation the status it
        would get alone. `batched=False` applies every mutation that way (the reference path)."""
        real = [m for m in mutations if isinstance(m, Mutation)]
        # Validating the data needs nothing stored: done before the lock, so concurrent pushes
        # wait for each other only while they read and write records.
        self._prevalidated = self._prevalidate(real) if batched else {}
        if self.is_pg:
            self.store.lock_device(self.session, device_id)
        self._prefetch(real)
        # After the locks: what earlier pushes applied is now visible, so a retry racing its
        # original cannot pass this check twice.
        M = self.store.mutation
        self._first = {mid: (result, (owner, entity, record_id)) for mid, result, owner, entity, record_id in
                       self.session.execute(
                           select(M.mutation_id, M.result, M.user_id, M.entity, M.record_id)
                           .where(M.mutation_id.in_(sorted({m.mutation_id for m in real})))).all()} if real else {}
        self._results: list = [None] * len(mutations)
        self._failed: set[tuple[str, str]] = set()
        self._applied_rows: list[dict] = []
        self._batch_sets: dict[str, dict] = {}
        self._user, self._device_id = user, device_id
        self._known_missing_photos(real)
        try:
            segment: list[tuple[int, Mutation]] = []
            keys: set = set()
            mids: set = set()
            for i, m in enumerate(mutations):
                if isinstance(m, tuple):  # (mutation_id, id, Rejection) from envelope validation
                    mutation_id, record_id, rejection = m
                    self._results[i] = Result(mutation_id, record_id, REJECTED, errors=rejection.errors).as_dict()
                    continue
                key = (m.entity, m.id)
                if key in keys or m.mutation_id in mids:
                    # A record's later mutation needs the earlier one written first.
                    self._run_segment(segment, batched)
                    segment, keys, mids = [], set(), set()
                if self._settled_without_applying(i, m):
                    continue
                segment.append((i, m))
                keys.add(key)
                mids.add(m.mutation_id)
            self._run_segment(segment, batched)
            if self._applied_rows:
                # Recorded in this same transaction, committed with the effects.
                self.session.execute(insert(M), self._applied_rows)
        finally:
            self.policy.forget(self.session)
            self.policy.set_context(self.session)
        return self._results

    def _settled_without_applying(self, i: int, m: Mutation) -> bool:
        """A duplicate or a blocked mutation: its result needs no change to any record."""
        first = self._first.get(m.mutation_id)
        if first is not None:
            first, owner = first
            if owner != (self._user.id, m.entity, m.id):
                # Idempotency is per user and record: someone else's (or another record's) id is
                # refused, and nothing of the first use is told.
                self._results[i] = Result(m.mutation_id, m.id, REJECTED, errors={
                    "mutation_id": [self.policy.message("mutation_id_reused")]}).as_dict()
                return True
            res = {k: v for k, v in first.items() if k != "_sets"}
            res["status"], res["first_status"] = DUPLICATE, first["status"]
            res["missing_photos"] = self._missing_photos(m)
            self._results[i] = res
            return True
        if (m.entity, m.id) in self._failed:
            self._results[i] = Result(m.mutation_id, m.id, BLOCKED, errors={
                "mutation_id": [self.policy.message("blocked")]}).as_dict()
            return True
        return False

    def _run_segment(self, segment: list, batched: bool) -> None:
        if not segment:
            return
        if batched and len(segment) > 1:
            try:
                with self.session.begin_nested():
                    done = self._apply_segment(segment)
            except SQLAlchemyError:
                # Something only the database could tell (e.g. a second answer to the same
                # checklist item): redo the segment one mutation per savepoint.
                self.policy.forget(self.session)
                self.policy.set_context(self.session)
                self._drop_pending(segment)
            else:
                for i, m, result in done:
                    self._settle(i, m, result)
                return
        for i, m in segment:
            self._settle(i, m, self._apply_alone(m))

    def _apply_segment(self, segment: list) -> list:
        """Apply a segment's mutations in memory, write them in one flush. Raises SQLAlchemyError
        (the caller rolls the savepoint back); a Rejection concerns only its own mutation, which
        has touched nothing yet."""
        pending = []
        with self.session.no_autoflush:
            self._prefetch_segment(segment)
            for i, m in segment:
                try:
                    pending.append((i, m, self._apply(self._user, self._device_id, m, batched=True)))
                except Rejection as e:
                    pending.append((i, m, Result(m.mutation_id, m.id, REJECTED, errors=e.errors)))
            self.session.flush()
            done = []
            conflicted = False
            for i, m, outcome in pending:
                if isinstance(outcome, Result):
                    done.append((i, m, outcome))
                    continue
                result, obj, spec = outcome
                result.version = obj.version
                if result.conflicts:
                    self._record_conflicts(self._user, self._device_id, m, spec, obj, result.conflicts, flush=False)
                    conflicted = True
                done.append((i, m, result))
            if conflicted:
                self.session.flush()
                for _i, _m, result in done:
                    for c in result.conflicts:
                        if "row" in c:
                            c["id"] = c.pop("row").id
        self.policy.set_context(self.session)
        return done

    def _apply_alone(self, m: Mutation) -> Result:
        """One mutation in its own savepoint (the fallback and reference path)."""
        try:
            with self.session.begin_nested(), self.session.no_autoflush:
                # No autoflush: a lookup halfway through must not write half a mutation
                # as a version of its own.
                result = self._apply(self._user, self._device_id, m, batched=False)
                self.session.flush()
        except Rejection as e:
            result = Result(m.mutation_id, m.id, REJECTED, errors=e.errors)
        except SQLAlchemyError:
            # A constraint the checks above did not foresee (e.g. a second answer to the same
            # checklist item): the savepoint is gone, the device keeps the mutation.
            self.policy.forget(self.session)
            self._drop_pending([(None, m)])
            result = Result(m.mutation_id, m.id, REJECTED, errors={"id": [self.policy.message("integrity")]})
        self.policy.set_context(self.session)
        return result

    def _settle(self, i: int, m: Mutation, result: Result) -> None:
        key = (m.entity, m.id)
        if result.status == REJECTED:
            self._failed.add(key)
            current = self._record(m) if m.entity in self.entities else None
            result.version = current.version if current is not None else None
        else:
            stored = result.stored()
            self._first[m.mutation_id] = (stored, (self._user.id, m.entity, m.id))
            self._batch_sets[m.mutation_id] = stored
            self._applied_rows.append({"mutation_id": m.mutation_id, "device_id": self._device_id,
                                       "user_id": self._user.id, "entity": m.entity, "record_id": m.id,
                                       "result": stored, "applied_at": datetime.now(UTC)})
            result.missing_photos = self._missing_photos(m)
        self._results[i] = result.as_dict()

    def _prefetch(self, mutations: list) -> None:
        """Load (and on PostgreSQL lock) every record the batch touches, one query per entity, and
        hold them: the session's identity map keeps objects only while someone refers to them."""
        by_entity = defaultdict(set)
        for m in mutations:
            if m.entity in self.entities:
                by_entity[m.entity].add(m.id)
        self._records: dict[tuple[str, str], Any] = {}
        for entity, ids in sorted(by_entity.items()):
            model = self.entities[entity].model
            stmt = select(model).where(model.id.in_(sorted(ids))).execution_options(populate_existing=True)
            if self.is_pg:
                # In id order, so every push takes its row locks in the same order; NO KEY, so
                # inserting a child row (a foreign-key share lock) does not wait for it.
                stmt = stmt.order_by(model.id).with_for_update(key_share=True)
            found = {obj.id: obj for obj in self.session.scalars(stmt).all()}
            self.store.mark_current(self.session, found.values())
            for pk in ids:
                self._records[(entity, pk)] = found.get(pk)

    def _record(self, m: Mutation):
        key = (m.entity, m.id)
        if key in self._records:
            return self._records[key]
        return self.session.get(self.entities[m.entity].model, m.id)

    def _drop_pending(self, segment: list) -> None:
        """After a savepoint rollback: records created in it are gone again."""
        for _i, m in segment:
            obj = self._records.get((m.entity, m.id))
            if obj is not None and not inspect(obj).persistent:
                self._records[(m.entity, m.id)] = None

    def _prefetch_segment(self, segment: list) -> None:
        """Validate the segment's mutations and load what their checks will look up, in a few
        queries: referenced and parent records (through the policy) and the revisions at base."""
        self._values: dict[str, Any] = {}
        items = []
        need_history = defaultdict(dict)
        for _i, m in segment:
            spec = self.entities.get(m.entity)
            if spec is None or not spec.pushable:
                continue
            obj = self._records.get((m.entity, m.id))
            creating = obj is None
            if creating and (m.op == "delete" or m.base_version != 0):
                continue
            values = {}
            if m.op != "delete" or creating:
                try:
                    values = self._prevalidated_values(spec, m, creating)
                except Rejection as e:
                    self._values[m.mutation_id] = e
                    continue
                self._values[m.mutation_id] = values
            items.append((spec, obj, values))
            if obj is not None and m.base_version < obj.version:
                need_history[spec.name][obj.id] = m.base_version
        self.policy.prefetch(self.session, items)
        self._history = {}
        Rev = self.store.revision
        for entity, bases in need_history.items():
            rows = self.session.execute(
                select(Rev.record_id, Rev.version, Rev.user_id, Rev.device_id, Rev.changed, Rev.data,
                       Rev.mutation_id)
                .where(Rev.entity == entity, Rev.record_id.in_(sorted(bases)),
                       Rev.version >= min(bases.values()), Rev.kind != "conflict")
                .order_by(Rev.record_id, Rev.version, Rev.id)).all()
            for record_id, *row in rows:
                if row[0] >= bases[record_id]:
                    self._history.setdefault((entity, record_id), []).append(tuple(row))
            for record_id in bases:
                self._history.setdefault((entity, record_id), [])

    def _prevalidate(self, mutations: list) -> dict:
        """Typed values (or the Rejection) of each mutation, keyed by id(mutation), validated as a
        create when it looks like one (an upsert at base version 0) and as an edit otherwise."""
        out = {}
        for m in mutations:
            spec = self.entities.get(m.entity)
            if spec is None or not spec.pushable or m.op == "delete":
                continue
            creating = m.base_version == 0
            try:
                out[id(m)] = (creating, self.policy.validate(spec, m.data, creating=creating))
            except Rejection as e:
                out[id(m)] = (creating, e)
        return out

    def _prevalidated_values(self, spec, m: Mutation, creating: bool) -> dict:
        """The values validated before the lock, unless the record turned out not to be what the
        mutation looked like (e.g. an upsert at version 0 of a record that exists)."""
        guess = self._prevalidated.get(id(m))
        if guess is None or guess[0] != creating:
            return self.policy.validate(spec, m.data, creating=creating)
        if isinstance(guess[1], Rejection):
            raise guess[1]
        return guess[1]

    def _known_missing_photos(self, mutations: list) -> None:
        """Which photo hashes the batch refers to that the store lacks: one look-up for the batch."""
        hashes = set()
        for m in mutations:
            hashes |= self._photo_hashes(m)
        self._lacking = set(self.policy.missing_photos(hashes)) if hashes else set()

    def _photo_hashes(self, m: Mutation) -> set[str]:
        spec = self.entities.get(m.entity)
        hashes = set()
        if spec is not None:
            for name in self.policy.photo_fields(spec):
                value = m.data.get(name)
                if isinstance(value, list):
                    hashes.update(h for h in value if isinstance(h, str))
        return hashes

    def _missing_photos(self, m: Mutation) -> list[str]:
        return sorted(self._photo_hashes(m) & self._lacking)

    def _get_for_update(self, model, pk):
        obj = self.session.get(model, pk, with_for_update={"key_share": True} if self.is_pg else None,
                               populate_existing=True)
        self.store.mark_current(self.session, [obj])
        return obj

    def _validated(self, spec, m: Mutation, *, creating: bool, batched: bool) -> dict:
        if batched and m.mutation_id in self._values:
            values = self._values[m.mutation_id]
            if isinstance(values, Rejection):
                raise values
            return values
        return self.policy.validate(spec, m.data, creating=creating)

    def _apply(self, user, device_id: str, m: Mutation, *, batched: bool):
        """Apply one mutation to its record in memory. Raises Rejection before touching anything.

        One by one (batched=False) it flushes and returns the Result; batched, it returns
        (Result, record, spec) and the caller flushes, then fills in the version and conflicts."""
        spec = self.entities.get(m.entity)
        if spec is None or not spec.pushable:
            raise Rejection({"entity": [self.policy.message("entity")]})
        context = dict(user_id=user.id, device_id=device_id, mutation_id=m.mutation_id,
                       client_time=m.client_time, kind="accepted")
        if batched:
            self.policy.set_context(self.session, record=(spec.name, m.id), **context)
        else:
            self.policy.set_context(self.session, **context)
        obj = self._record(m)
        deleting = m.op == "delete"
        if obj is None:
            if deleting or m.base_version != 0:
                raise Rejection({"id": [self.policy.message("unknown_record")]})
            values = self._validated(spec, m, creating=True, batched=batched)
            obj = spec.model(id=m.id)
            for name, value in values.items():
                setattr(obj, name, value)
            _fill_defaults(obj, spec)
            self.policy.derive(user, spec, obj, creating=True)
            self.policy.authorize(user, spec, obj, values, creating=True, deleting=False)
            self.session.add(obj)
            self.policy.applied(user, spec, obj, creating=True)
            self._records[(m.entity, m.id)] = obj
            self.policy.remember(self.session, obj)
            result = Result(m.mutation_id, m.id, APPLIED,
                            sent_sets={k: sorted(set(v or ())) for k, v in values.items() if k in spec.set_fields})
            if batched:
                return result, obj, spec
            self.session.flush()
            result.version = obj.version
            return result

        if m.base_version > obj.version:
            raise Rejection({"base_version": [self.policy.message("future_version")]})
        values = {} if deleting else self._validated(spec, m, creating=False, batched=batched)
        self.policy.authorize(user, spec, obj, values, creating=False, deleting=deleting)
        history = self._history.get((spec.name, obj.id)) if batched else None
        base, others, others_any = self._since_base(spec, obj, m.base_version, (user.id, device_id), history)
        conflicts = []
        merged = others_any
        changes = {}  # field → new value, set only once the whole mutation is known to be acceptable

        if deleting:
            out = merge_delete(others_changed_anything=others_any, already_deleted=obj.deleted_at is not None)
            if out.action == TAKE:
                changes["deleted_at"] = datetime.now(UTC)
            elif out.action == CONFLICT:
                conflicts.append({"field": DELETED, "server": False, "client": True, "base": False})
        else:
            for name, value in values.items():
                client = wire(value)
                server = self._wire_field(spec, obj, name)
                read_only = self.policy.read_only(user, spec, name)
                if read_only is not None:
                    # The device's copy of a field it may not change: ignored while it is what the
                    # device last saw (or what is stored); a change to it is refused.
                    if client not in (server, base.get(name)):
                        raise Rejection({name: [self.policy.message(read_only)]})
                    continue
                if name in spec.set_fields:
                    out = merge_set(base.get(name), server, client)
                    if out.action == TAKE:
                        changes[name] = out.value
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
                    changes[name] = value
                elif out.action == CONFLICT:
                    conflicts.append({"field": name, "server": server, "client": client, "base": base.get(name)})
            if obj.deleted_at is not None:
                # Edited on the device after someone deleted it: the edit is kept on the
                # tombstone and a person decides whether the record comes back.
                conflicts.append({"field": DELETED, "server": True, "client": False,
                                  "base": bool(base.get(DELETED, False))})
        for name, value in changes.items():
            setattr(obj, name, value)
        if not deleting:
            self.policy.derive(user, spec, obj, creating=False)
        if conflicts:
            obj.has_conflict = True
        status = CONFLICTED if conflicts else (MERGED if merged else APPLIED)
        result = Result(m.mutation_id, m.id, status, conflicts=conflicts,
                        sent_sets={k: sorted(set(v or ())) for k, v in values.items() if k in spec.set_fields})
        if batched:
            return result, obj, spec
        self.session.flush()
        if conflicts:
            self._record_conflicts(user, device_id, m, spec, obj, conflicts)
        result.version = obj.version
        return result

    def _wire_field(self, spec, obj, name):
        value = getattr(obj, name)
        if name in spec.set_fields:
            return sorted(value or [])
        return wire(value)

    def _since_base(self, spec, obj, base_version: int, author: tuple, revs: list | None = None):
        """(base values, fields others changed since base, whether others changed anything).

        Changes the same user made on this same device after its base (earlier mutations of one
        batch, all sent with the base the device last saw) are not concurrent edits; a device id
        alone proves nothing. `author`: (user id, device id). `revs`: the record's revisions from
        base_version on, when already loaded with the rest of a segment.
        """
        user_id, device_id = author
        if base_version == obj.version:
            current = {name: self._wire_field(spec, obj, name) for name in spec.fields if name != "items"}
            current[DELETED] = obj.deleted_at is not None
            return current, set(), False
        if revs is None:
            Rev = self.store.revision
            revs = self.session.execute(
                select(Rev.version, Rev.user_id, Rev.device_id, Rev.changed, Rev.data, Rev.mutation_id)
                .where(Rev.entity == spec.name, Rev.record_id == obj.id, Rev.version >= base_version,
                       Rev.kind != "conflict")
                .order_by(Rev.version, Rev.id)
            ).all()
        base: dict = {}
        others: set[str] = set()
        others_any = False
        own_mutations = []
        for version, rev_user, rev_device, changed, data, mutation_id in revs:
            if version == base_version:
                base = dict(data or {})
                continue
            if device_id is None or rev_device != device_id or rev_user != user_id:
                others.update((changed or {}).keys())
                others_any = True
            elif mutation_id and spec.set_fields:
                own_mutations.append(mutation_id)
        if own_mutations:
            # For a set, the device's view when it sent this mutation is what it sent last, not
            # the stored base: removing a photo it added itself a moment ago must work.
            M = self.store.mutation
            sent = {mid: self._batch_sets[mid] for mid in own_mutations if mid in self._batch_sets}
            missing = [mid for mid in own_mutations if mid not in sent]
            if missing:
                sent.update(self.session.execute(select(M.mutation_id, M.result).where(M.mutation_id.in_(missing))).all())
            for mutation_id in own_mutations:
                for name, value in ((sent.get(mutation_id) or {}).get("_sets") or {}).items():
                    base[name] = value
        return base, others, others_any

    def _record_conflicts(self, user, device_id, m: Mutation, spec, obj, conflicts: list, flush=True) -> None:
        """The losing side as a revision and one open conflict per field. Without `flush`, each
        conflict keeps its row under "row" until the caller has flushed (then it gets its id)."""
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
            if flush:
                self.session.flush()
                c["id"] = row.id
            else:
                c["row"] = row
        if flush:
            self.session.flush()

    # ---- conflicts ---------------------------------------------------------------------------

    def resolve(self, user, conflict, choice: str, value: Any = None):
        """Settle one open conflict: a new version (kind "resolution") every device pulls.
        Both sides stay in history. Flushes, never commits."""
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
        exits = by_entity.pop(self.policy.exit_entity, None)
        markers = {}
        if exits:
            # Records that left this user's scope: deletion markers, where the exit sits in the feed.
            exit_rows = [row for row in rows if row.entity == self.policy.exit_entity]
            for row in exit_rows:
                markers[row.seq] = self.policy.exits(user, [row])
        records = {}
        for entity, ids in by_entity.items():
            spec = self.entities[entity]
            stmt = select(spec.model).where(spec.model.id.in_(ids)).options(*self.policy.load_options(spec))
            for obj in self.session.scalars(stmt):
                records[(entity, obj.id)] = obj
        changes = []
        for row in rows:
            if row.seq in markers:
                changes.extend(markers[row.seq])
                continue
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
