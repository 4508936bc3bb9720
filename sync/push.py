"""Push: apply a device's mutations in order, batched in segments (see sync/engine.py)."""

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.util import identity_key

from sync.merge import CONFLICT, ILLEGAL, TAKE, merge_delete, merge_scalar, merge_set, merge_status
from sync.protocol import (
    APPLIED,
    BLOCKED,
    CONFLICTED,
    DELETED,
    DUPLICATE,
    MERGED,
    REJECTED,
    Mutation,
    Rejection,
    Result,
    fill_defaults,
    wire,
)
from sync.sql import among, insert_rows

UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


class Push:
    """The push half of SyncEngine (a mixin: it uses the engine's session, entities, store, policy)."""

    def lock_record(self, entity: str, record_id: str):
        """The record, re-read and (PostgreSQL) locked for this transaction."""
        return self._get_for_update(self.entities[entity].model, record_id)

    def prevalidate(self, mutations: list) -> dict:
        """The typed values of the mutations' data, for `push(..., prevalidated=)`: validating needs
        nothing stored, so a caller can do it before its transaction takes any lock."""
        return self._prevalidate([m for m in mutations if isinstance(m, Mutation)])

    def push(self, user, device_id: str, mutations: list, *, batched: bool = True,
             prevalidated: dict | None = None) -> list[dict]:
        """Apply mutations in order. Items of `mutations` are Mutation objects or (mutation_id, id,
        Rejection) for a mutation whose envelope did not validate. Flushes, never commits.

        The batch is cut into segments of consecutive mutations that touch distinct records and
        carry distinct mutation ids. A segment is applied in memory and written in one flush inside
        one savepoint; if that flush fails (a constraint the checks did not foresee), the segment is
        rolled back and redone one mutation per savepoint, which gives each mutation the status it
        would get alone. `batched=False` applies every mutation that way (the reference path).
        `prevalidated`: what `prevalidate(mutations)` returned for these very mutations."""
        real = [m for m in mutations if isinstance(m, Mutation)]
        # Validating the data needs nothing stored: done before the lock, so concurrent pushes
        # wait for each other only while they read and write records.
        if not batched:
            self._prevalidated = {}
        else:
            self._prevalidated = prevalidated if prevalidated is not None else self._prevalidate(real)
        if self.is_pg:
            self.store.lock_device(self.session, device_id)
        self._prefetch(real)
        # After the locks: what earlier pushes applied is now visible, so a retry racing its
        # original cannot pass this check twice.
        M = self.store.mutation
        self._first = {mid: (result, (owner, entity, record_id)) for mid, result, owner, entity, record_id in
                       self.session.execute(
                           select(M.mutation_id, M.result, M.user_id, M.entity, M.record_id)
                           .where(among(M.mutation_id, sorted({m.mutation_id for m in real})))).all()} if real else {}
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
                insert_rows(self.session, M.__table__, self._applied_rows)
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
            conflicted = []
            for i, m, outcome in pending:
                if isinstance(outcome, Result):
                    done.append((i, m, outcome))
                    continue
                result, obj, spec = outcome
                result.version = obj.version
                if result.conflicts:
                    conflicted.append(self._conflict_rows(self._user, self._device_id, m, spec, obj, result.conflicts))
                done.append((i, m, result))
            self._write_conflicts(conflicted)
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
        except SQLAlchemyError as e:
            if self._created_meanwhile(m, e):
                # Another push created this very record and committed while this one waited on
                # it (PostgreSQL): answered as it would be one after the other, by running the
                # whole push again, now seeing the record (the caller retries unique violations).
                raise
            # A constraint the checks above did not foresee (e.g. a second answer to the same
            # checklist item): the savepoint is gone, the device keeps the mutation.
            self.policy.forget(self.session)
            self._drop_pending([(None, m)])
            result = Result(m.mutation_id, m.id, REJECTED, errors={"id": [self.policy.message("integrity")]})
        self.policy.set_context(self.session)
        return result

    def _created_meanwhile(self, m: Mutation, error: SQLAlchemyError) -> bool:
        """A unique violation on creating a record that exists now but did not when the push read."""
        if getattr(getattr(error, "orig", None), "sqlstate", None) != UNIQUE_VIOLATION:
            return False
        held = self._records.get((m.entity, m.id))
        if (held is not None and inspect(held).persistent) or m.entity not in self.entities:
            return False  # it existed when the push read it: some other constraint
        model = self.entities[m.entity].model
        return self.session.scalar(select(model.id).where(model.id == m.id)) is not None

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
            stmt = select(model).where(among(model.id, sorted(ids)))
            identity = self.session.identity_map
            if any(identity.get(identity_key(model, pk)) is not None for pk in ids):
                # What the session holds of them is overwritten by what the locked read finds.
                # Asked only then: overwriting (populate_existing) costs on every row loaded.
                stmt = stmt.execution_options(populate_existing=True)
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
                .where(Rev.entity == entity, among(Rev.record_id, sorted(bases)),
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
            fill_defaults(obj, spec)
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
