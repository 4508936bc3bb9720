"""The merge rules of sync-protocol.md, as pure functions."""

import pytest

from sync.merge import CONFLICT, ILLEGAL, NOOP, TAKE, merge_delete, merge_scalar, merge_set, merge_status
from webapp.findings.models import FINDING_TRANSITIONS
from webapp.visits.models import VISIT_TRANSITIONS


@pytest.mark.parametrize("base, server, client, others, action, value", [
    ("a", "a", "b", False, TAKE, "b"),  # server unchanged since base → take client
    ("a", "b", "b", True, NOOP, "b"),  # equal values → no-op
    ("a", "b", "c", True, CONFLICT, "b"),  # changed by someone else to something else → conflict
    ("a", "b", "c", False, TAKE, "c"),  # changed since base by this same device → not a conflict
    (None, None, 3, False, TAKE, 3),
])
def test_scalar(base, server, client, others, action, value):
    out = merge_scalar(base, server, client, others_changed=others)
    assert (out.action, out.value) == (action, value)


@pytest.mark.parametrize("base, server, client, expected", [
    (["a"], ["a"], ["a", "b"], ["a", "b"]),  # client added
    (["a", "b"], ["a", "b", "c"], ["a"], ["a", "c"]),  # client removed b, server added c
    (["a"], ["a", "s"], ["a", "c"], ["a", "c", "s"]),  # both added
    ([], ["x"], [], ["x"]),  # never loses what the server got
    (["a", "b"], ["b"], ["a", "b"], ["b"]),  # server removed a, client unchanged: stays removed
    (None, None, ["z"], ["z"]),
])
def test_set_union(base, server, client, expected):
    out = merge_set(base, server, client)
    assert out.value == expected
    assert out.action in (TAKE, NOOP)


@pytest.mark.parametrize("base, server, client, others, action", [
    ("open", "open", "rectifying", False, TAKE),
    ("open", "open", "pending_acceptance", False, ILLEGAL),  # the device's own illegal move
    ("pending_acceptance", "rectifying", "closed", True, CONFLICT),  # closing what a manager sent back
    ("open", "rectifying", "pending_acceptance", True, TAKE),  # legal from where it is now
    ("open", "closed", "closed", True, NOOP),
])
def test_finding_status(base, server, client, others, action):
    assert merge_status(base, server, client, FINDING_TRANSITIONS, others_changed=others).action == action


def test_visit_status_and_creation():
    assert merge_status("scheduled", "scheduled", "in_progress", VISIT_TRANSITIONS, others_changed=False).action == TAKE
    assert merge_status("in_progress", "in_progress", "scheduled", VISIT_TRANSITIONS,
                        others_changed=False).action == ILLEGAL
    assert merge_status(None, None, "completed", VISIT_TRANSITIONS, others_changed=False, creating=True).action == TAKE


@pytest.mark.parametrize("others, deleted, action", [
    (False, False, TAKE), (True, False, CONFLICT), (True, True, NOOP), (False, True, NOOP)])
def test_delete(others, deleted, action):
    assert merge_delete(others_changed_anything=others, already_deleted=deleted).action == action
