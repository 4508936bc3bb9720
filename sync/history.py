"""History: what a device's base version looked like, and what others changed since (the input of
every merge decision)."""

from sqlalchemy import select

from sync.protocol import DELETED, wire


class History:
    """The history half of SyncEngine (a mixin)."""

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
            return _Current(self, spec, obj), set(), False
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


class _Current:
    """The record as stored, in wire form, as the base of a mutation sent at its current version:
    each field worked out when the merge asks for it (a mutation sends a few of a record's fields).
    Asked before the mutation changes the record: `_apply` sets what it takes only after merging."""

    __slots__ = ("_history", "_spec", "_obj")

    def __init__(self, history: History, spec, obj):
        self._history, self._spec, self._obj = history, spec, obj

    def get(self, name: str, default=None):
        if name == DELETED:
            return self._obj.deleted_at is not None
        if name == "items" or name not in self._spec.fields:
            return default
        return self._history._wire_field(self._spec, self._obj, name)
