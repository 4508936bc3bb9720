"""Pull: the change feed in the user's scope after a cursor, oldest first, with the deletion
markers of records that left it — as JSON changes or in the compact column encoding.

A phone may ask for its *phone scope*: the policy's window (open work, a recent period, reference
data) narrows what a fresh device pulls. The window applies to the feed rows up to a horizon (the
feed's last place when the device's first pull began); everything after the horizon is a change the
device must see whatever the window says, so a record that enters the window later, or leaves it,
still reaches the device (docs/sync-protocol.md, "Phone scope").
"""

import gc
from collections import defaultdict, namedtuple

from sqlalchemy import func, or_, select

_Ref = namedtuple("_Ref", "seq entity record_id")


class Pull:
    """The pull half of SyncEngine (a mixin)."""

    def pull(self, user, cursor: int | None, limit: int, *, encoding: str = "json", phone: bool = False,
             horizon: int | None = None) -> dict:
        # A page is thousands of short-lived lists and dicts and no cycles: the cyclic collector's
        # passes over them (a third of the time of a large page) are skipped while it is built.
        # XXX: process-wide; with threads, whoever found it enabled turns it back on.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._pull(user, cursor, limit, encoding=encoding, phone=phone, horizon=horizon)
        finally:
            if enabled:
                gc.enable()

    def _pull(self, user, cursor, limit, *, encoding, phone, horizon) -> dict:
        Change = self.store.change
        # Columns, not ORM objects: a pull page is hundreds of rows that are only read.
        q = select(Change.seq, Change.entity, Change.record_id).where(self.policy.change_scope(user)) \
            .order_by(Change.seq).limit(limit + 1)
        if cursor:
            q = q.where(Change.seq > cursor)
        else:
            q = q.where(Change.deleted.is_(False))  # a fresh device needs no tombstones
        window = self.policy.pull_window(user) if phone else None
        if window is not None:
            if horizon is None and not cursor:
                horizon = self.session.scalar(select(func.max(Change.seq))) or 0
            if horizon:  # a device that began before phone scopes existed has everything already
                q = q.where(or_(Change.seq > horizon, window))
        rows = [_Ref(*row) for row in self.session.execute(q)]
        more = len(rows) > limit
        rows = rows[:limit]
        records, markers = self._page(user, rows)
        next_cursor = rows[-1].seq if rows else (cursor or 0)
        page = {"cursor": next_cursor, "more": more}
        if window is not None and horizon:
            page["horizon"] = horizon
        if encoding == "columns":
            page.update(encoding="columns", **self._columns(rows, records, markers))
        else:
            page["changes"] = self._changes(rows, records, markers)
        return page

    def fetch(self, refs: list[tuple[str, str]]) -> list[dict]:
        """These records as JSON changes, in the order given (the caller has asked the scope)."""
        by_entity = defaultdict(list)
        for entity, record_id in refs:
            by_entity[entity].append(record_id)
        records = {}
        for entity, ids in by_entity.items():
            for record_id, record in self._pulled_records(self.entities[entity], ids).items():
                records[(entity, record_id)] = record
        rows = [_Ref(None, entity, record_id) for entity, record_id in refs]
        return self._changes(rows, records, {})

    def _page(self, user, rows) -> tuple[dict, dict]:
        """The records of these feed rows, {(entity, id): (version, deleted, has_conflict, values,
        extra)}, and the deletion markers of the scope exits among them, {seq: [marker]}."""
        by_entity = defaultdict(list)
        markers = {}
        for row in rows:
            if row.entity == self.policy.exit_entity:
                # Records that left this user's scope: deletion markers, where the exit sits in the feed.
                markers[row.seq] = self.policy.exits(user, [row])
            else:
                by_entity[row.entity].append(row.record_id)
        records = {}
        for entity, ids in by_entity.items():
            spec = self.entities[entity]
            for record_id, record in self._pulled_records(spec, ids).items():
                records[(entity, record_id)] = record
        return records, markers

    def _changes(self, rows, records: dict, markers: dict) -> list[dict]:
        """The JSON encoding: one object per change, in feed order."""
        changes = []
        names = {}
        for seq, entity, record_id in rows:
            if seq in markers:
                changes.extend(markers[seq])
                continue
            record = records.get((entity, record_id))
            if record is None:
                continue
            fields = names.get(entity)
            if fields is None:
                fields = names[entity] = self.wire_fields(self.entities[entity])
            version, deleted, has_conflict, values, extra = record
            data = dict(zip(fields, values, strict=True))
            if extra:
                data.update(extra)
            changes.append({"entity": entity, "id": record_id, "version": version, "deleted": deleted,
                            "has_conflict": has_conflict, "data": data})
        return changes

    def _columns(self, rows, records: dict, markers: dict) -> dict:
        """The column encoding: per entity its data field names once and a row per record,
        `[id, version, deleted, has_conflict, *values]` (+ an object of pull-only extras when the
        record has any); the deletion markers as in the JSON encoding. A page holds a record once,
        so its rows may be applied in any order."""
        blocks: dict[str, dict] = {}
        removed = []
        for seq, entity, record_id in rows:
            if seq in markers:
                removed.extend(markers[seq])
                continue
            record = records.get((entity, record_id))
            if record is None:
                continue
            block = blocks.get(entity)
            if block is None:
                block = blocks[entity] = {"fields": list(self.wire_fields(self.entities[entity])), "rows": []}
            version, deleted, has_conflict, values, extra = record
            out = [record_id, version, deleted, has_conflict, *values]
            if extra:
                out.append(extra)
            block["rows"].append(out)
        return {"entities": blocks, "removed": removed}

    @staticmethod
    def wire_fields(spec) -> tuple[str, ...]:
        """The keys of a pulled record's `data`, in order: the entity's wire fields, and
        `has_conflict` for a pushable record (a copy of the one beside `data`)."""
        if spec.reference or "has_conflict" in spec.fields:
            return spec.fields
        return (*spec.fields, "has_conflict")

    def _pulled_records(self, spec, ids: list[str]) -> dict:
        """{id: (version, deleted, has_conflict, wire values in wire_fields order, extras)} for
        these records. Plain columns are read as rows and put on the wire by the policy's
        wire_row (the same rules as its serialize(), without building ORM objects); an entity the
        policy loads with options (a template and its items) goes through serialize()."""
        out = {}
        fields = spec.fields
        conflict_copy = not spec.reference and "has_conflict" not in fields
        if self.policy.load_options(spec):
            stmt = select(spec.model).where(spec.model.id.in_(ids)).options(*self.policy.load_options(spec))
            objs = list(self.session.scalars(stmt))
            extras = self.policy.pull_extras(spec, objs) or {}
            for obj in objs:
                data = self.policy.serialize(spec, obj)
                has_conflict = bool(obj.has_conflict)
                values = [data[name] for name in fields]
                if conflict_copy:
                    values.append(has_conflict)
                out[obj.id] = (obj.version, obj.deleted_at is not None, has_conflict, values, extras.get(obj.id))
            return out
        model = spec.model
        cols = [model.id, model.version, model.deleted_at, model.has_conflict, *self.policy.wire_columns(spec)]
        # Core, not the ORM: plain rows need no loading machinery.
        rows = self.session.connection().execute(select(*cols).where(model.id.in_(ids))).all()
        # Server-computed fields (e.g. a visit's plan title): the rows carry the fields by name.
        extras = self.policy.pull_extras(spec, rows) or {}
        wire_row = self.policy.wire_row(spec)
        for row in rows:
            has_conflict = bool(row[3])
            values = wire_row(row[4:])
            if conflict_copy:
                values.append(has_conflict)
            out[row[0]] = (row[1], row[2] is not None, has_conflict, values, extras.get(row[0]))
        return out
