"""The ledger's words in both languages (pages and the Excel export)."""

from flask_babel import lazy_gettext as _l

from webapp.results.points.operations import (
    VOID_APPEAL_UPHELD,
    VOID_FINDING_DELETED,
    VOID_FINDING_MERGED,
    VOID_FINDING_REJECTED,
)

TRIGGERS = {
    "finding_severity": _l("Finding, by severity"),
    "accepted_first_round_on_time": _l("Accepted on the first round and on time"),
    "overdue": _l("Rectification overdue"),
    "acceptance_failed": _l("Acceptance failed"),
}
TARGETS = {"department": _l("Department"), "person": _l("Individual")}
ENTRY_STATUSES = {"active": _l("Counted"), "appealed": _l("Under appeal"), "voided": _l("Voided")}
APPEAL_STATUSES = {"pending": _l("Pending"), "upheld": _l("Upheld"), "rejected": _l("Rejected")}
VOID_NOTES = {
    VOID_FINDING_DELETED: _l("The finding was deleted."),
    VOID_APPEAL_UPHELD: _l("Appeal upheld."),
    VOID_FINDING_REJECTED: _l("The finding was rejected in review: not a problem."),
    VOID_FINDING_MERGED: _l("The finding was merged into another; that one counts."),
}


def label(table: dict, code) -> str:
    return str(table.get(code, code or ""))


def signed(points: float) -> str:
    """+3, −2, +1.5 (a real minus sign, no trailing .0)."""
    text = f"{abs(points):g}"
    return ("+" if points > 0 else "−" if points < 0 else "") + text
