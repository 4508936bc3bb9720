"""Merge rules, one pure function per kind of field (the table in sync-protocol.md).

Each rule gets the field's value at the device's base, on the server now, and from the device,
and says what the server keeps. `others_changed` tells whether someone other than this device
changed the field since the base: a device's own earlier mutations in the same batch (sent with
the same base_version) must not count as a concurrent edit against itself.
"""

from dataclasses import dataclass

TAKE = "take"  # the client's value replaces the server's
NOOP = "noop"  # nothing to do (equal values, or the merge leaves the server's value)
CONFLICT = "conflict"  # someone else changed it to something else: keep the server's, record the client's
ILLEGAL = "illegal"  # the device itself asks for a workflow move that is not allowed


@dataclass(frozen=True)
class Outcome:
    action: str
    value: object = None


def merge_scalar(base, server, client, *, others_changed: bool) -> Outcome:
    if client == server:
        return Outcome(NOOP, server)
    if not others_changed:
        return Outcome(TAKE, client)
    return Outcome(CONFLICT, server)


def merge_set(base, server, client) -> Outcome:
    """server + (client − base) − (base − client); never a conflict."""
    base_s, server_s, client_s = set(base or ()), set(server or ()), set(client or ())
    merged = (server_s | (client_s - base_s)) - (base_s - client_s)
    if merged == server_s:
        return Outcome(NOOP, sorted(server_s))
    return Outcome(TAKE, sorted(merged))


def merge_status(base, server, client, transitions: dict, *, others_changed: bool, creating: bool = False) -> Outcome:
    """Workflow status: only legal transitions from where the record is *now*.

    A legal move is taken even after a concurrent change (the workflow went on, the device's step
    still follows). An illegal one after a concurrent change (e.g. closing what a manager
    reopened) is a conflict; an illegal one from an unchanged state is the device's own mistake.
    """
    if client == server:
        return Outcome(NOOP, server)
    if creating or server is None:
        return Outcome(TAKE, client)
    if client in transitions.get(server, ()):
        return Outcome(TAKE, client)
    if others_changed:
        return Outcome(CONFLICT, server)
    return Outcome(ILLEGAL, server)


def merge_delete(*, others_changed_anything: bool, already_deleted: bool) -> Outcome:
    """Delete vs concurrent edit never silently wins: the record is kept and a conflict raised."""
    if already_deleted:
        return Outcome(NOOP, True)
    if others_changed_anything:
        return Outcome(CONFLICT, False)
    return Outcome(TAKE, True)
