"""How a rectification ended, in the words of the results chapter (policy 五): the points ledger, the
dashboard's on-time and first-round rates and the supervisors' scorecard all use these definitions.

- accepted on the first round: accepted, and no acceptance round failed (round is still 1);
- accepted on time: accepted on or before the deadline in force, as a local calendar day;
- overdue: still rectifying after the deadline (see operations.overdue_clause for the SQL form);
- failed rounds: acceptance rounds decided "fail"."""

from datetime import date, tzinfo

from webapp.results.periods import local_date


def accepted_first_round(rect) -> bool:
    return rect.status == "accepted" and rect.round == 1


def accepted_on_time(rect, tz: tzinfo | str) -> bool:
    return rect.status == "accepted" and rect.accepted_at is not None and \
        local_date(rect.accepted_at, tz) <= rect.deadline


def accepted_first_round_on_time(rect, tz: tzinfo | str) -> bool:
    return accepted_first_round(rect) and accepted_on_time(rect, tz)


def is_overdue(rect, today: date) -> bool:
    """Python twin of operations.overdue_clause(): rectifying past the deadline."""
    return rect.status == "rectifying" and rect.deadline < today


def failed_rounds(rect) -> list:
    return [r for r in rect.rounds if r.result == "fail"]
