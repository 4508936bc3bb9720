"""What the sync engine and the application agree on: result statuses, the Policy the application
implements, the Store of bookkeeping models, and the Mutation and Result of one change."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

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

    def wire_columns(self, spec) -> tuple:
        """The column expressions a pull selects for spec.fields, in order."""

    def wire_row(self, spec):
        """A function from a row of wire_columns(spec) to the wire values (a list): the same rules
        as serialize(), for the pull's column reads."""

    def pull_window(self, user):
        """WHERE clause on the Change model narrowing what a fresh phone of `user` pulls (the
        phone scope), or None for the user's whole scope."""

    def pull_extras(self, spec, objs: list) -> dict:
        """{record id: {field: value}}: server-computed fields a pull adds to these records' data
        (read-only, never part of a record's history)."""

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


_DEFAULTED: dict = {}  # (model, entity) → [(field, its column default)], the fields that have one


def fill_defaults(obj, spec) -> None:
    """Column defaults now, not at INSERT, so version 1's revision shows the record as stored."""
    key = (type(obj), spec.name)
    defaulted = _DEFAULTED.get(key)
    if defaulted is None:
        defaulted = _DEFAULTED[key] = [
            (column.key, column.default) for column in type(obj).__table__.columns
            if (column.key in spec.fields or column.key == "has_conflict") and column.default is not None]
    for name, default in defaulted:
        if getattr(obj, name, None) is None:
            if default.is_scalar:
                setattr(obj, name, default.arg)
            elif default.is_callable:
                setattr(obj, name, default.arg(None))
