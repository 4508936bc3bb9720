"""Pull: the change feed in the user's scope after a cursor, oldest first, with the deletion
markers of records that left it."""

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import select


class Pull:
    """The pull half of SyncEngine (a mixin)."""

    def pull(self, user, cursor: int | None, limit: int) -> dict:
        Change = self.store.change
        # Columns, not ORM objects: a pull page is hundreds of rows that are only read.
        q = select(Change.seq, Change.entity, Change.record_id).where(self.policy.change_scope(user)) \
            .order_by(Change.seq).limit(limit + 1)
        if cursor:
            q = q.where(Change.seq > cursor)
        else:
            q = q.where(Change.deleted.is_(False))  # a fresh device needs no tombstones
        rows = self.session.execute(q).all()
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
            records.update(self._pulled_records(self.entities[entity], ids))
        changes = []
        for row in rows:
            if row.seq in markers:
                changes.extend(markers[row.seq])
                continue
            change = records.get((row.entity, row.record_id))
            if change is not None:
                changes.append(change)
        next_cursor = rows[-1].seq if rows else (cursor or 0)
        return {"changes": changes, "cursor": next_cursor, "more": more}

    def _pulled_records(self, spec, ids: list[str]) -> dict:
        """{(entity, id): change} for these records. Plain columns are read as rows and put on the
        wire directly (what serialize() would give, without building ORM objects); an entity the
        policy loads with options (a template and its items) goes through the policy's serialize()."""
        out = {}
        if self.policy.load_options(spec):
            stmt = select(spec.model).where(spec.model.id.in_(ids)).options(*self.policy.load_options(spec))
            objs = list(self.session.scalars(stmt))
            extras = self.policy.pull_extras(spec, objs) or {}
            for obj in objs:
                data = self.policy.serialize(spec, obj)
                data.update(extras.get(obj.id, {}))
                out[(spec.name, obj.id)] = self._pulled_change(spec, obj.id, obj.version, obj.deleted_at is not None,
                                                               bool(obj.has_conflict), data)
            return out
        model = spec.model
        fields = spec.fields
        cols = [model.id, model.version, model.deleted_at, model.has_conflict, *(getattr(model, f) for f in fields)]
        sets = spec.set_fields
        rows = self.session.execute(select(*cols).where(model.id.in_(ids))).all()
        # Server-computed fields (e.g. a visit's plan title): the rows carry the fields by name.
        extras = self.policy.pull_extras(spec, rows) or {}
        for row in rows:
            data = {}
            for name, value in zip(fields, row[4:], strict=True):
                if name in sets:
                    value = sorted(value or [])
                elif isinstance(value, datetime | date):
                    value = value.isoformat()
                data[name] = value
            data.update(extras.get(row[0], {}))
            out[(spec.name, row[0])] = self._pulled_change(spec, row[0], row[1], row[2] is not None, bool(row[3]), data)
        return out

    @staticmethod
    def _pulled_change(spec, record_id, version, deleted: bool, has_conflict: bool, data: dict) -> dict:
        if not spec.reference:
            data["has_conflict"] = has_conflict
        return {"entity": spec.name, "id": record_id, "version": version, "deleted": deleted,
                "has_conflict": has_conflict, "data": data}
