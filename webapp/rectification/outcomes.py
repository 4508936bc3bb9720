"""How a rectification ended, in the words of the results chapter (policy 五): the points ledger, the
dashboard's on-time and first-round rates and the supervisors' scorecard all use these definitions.

- accepted on the first round: accepted, and no acceptance round failed (round is still 1);
- accepted on time: accepted on or before the deadline in force, as a local calendar day;
- overdue: still rectifying after the deadline (see operations.overdue_clause for the SQL form);
- failed rounds: acceptance rounds decided "fail";
- due (the on-time rate's denominator): accepted, or its deadline in force has passed;
- acceptance decided (the first-round rate's denominator): accepted, or at least one round failed.

Each definition used in SQL (dashboard, scorecards, points) has its SQL twin below the Python one,
named `*_clause`; tests/rectification/test_outcomes.py checks that both agree row by row."""

from datetime import date, tzinfo

from sqlalchemy import and_, or_

from webapp.rectification.models import Rectification
from webapp.results.periods import local_date, local_day


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


def is_due(rect, today: date) -> bool:
    """Counted by the on-time rate: accepted, or its deadline has passed without acceptance."""
    return rect.status == "accepted" or rect.deadline < today


def acceptance_decided(rect) -> bool:
    """Counted by the first-round rate: accepted, or a round already failed (round > 1)."""
    return rect.status == "accepted" or rect.round > 1


# ---- SQL twins (WHERE clauses on Rectification) ----------------------------------------------------

def accepted_first_round_clause():
    return and_(Rectification.status == "accepted", Rectification.round == 1)


def accepted_on_time_clause(tz: tzinfo | str):
    return and_(Rectification.status == "accepted", Rectification.accepted_at.is_not(None),
                local_day(Rectification.accepted_at, tz) <= Rectification.deadline)


def is_due_clause(today: date):
    return or_(Rectification.status == "accepted", Rectification.deadline < today)


def acceptance_decided_clause():
    return or_(Rectification.status == "accepted", Rectification.round > 1)


def is_overdue_clause(today: date):
    """The same as operations.overdue_clause(today), here with its Python twin."""
    return and_(Rectification.status == "rectifying", Rectification.deadline < today)
