"""Supervisor management (督导人员管理): profiles, visit ratings and the queries behind a scorecard.
Operations flush and never commit; the view commits once."""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from webapp.audit.operations import record_audit
from webapp.auth.models import User
from webapp.authz import scope_clause, scoped
from webapp.core.clock import company_tz_name as company_tz
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.rectification.models import Rectification
from webapp.rectification.outcomes import accepted_first_round_clause
from webapp.results.calibration.agreement import Agreement
from webapp.results.calibration.operations import agreements_in, supervisor_agreement
from webapp.results.models import SupervisorProfile, VisitRating
from webapp.results.periods import Period
from webapp.results.supervisors.scorecard import Scorecard, compute_scorecard, counted_scorecard
from webapp.visits.models import Visit

MANAGE = ("admin", "manager")


class RatingError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


# ---- who ---------------------------------------------------------------------------------------

def can_manage(user) -> bool:
    return user.role in MANAGE


def can_view_supervisor(user, supervisor: User) -> bool:
    return can_manage(user) or (user.role == "supervisor" and user.id == supervisor.id)


def supervisors() -> list[User]:
    """Everyone who is a supervisor now, or has a profile (a former supervisor keeps their record)."""
    with_profile = select(SupervisorProfile.user_id)
    return list(db.session.scalars(select(User).where(
        or_(and_(User.role == "supervisor", User.active.is_(True)), User.id.in_(with_profile)))
        .order_by(User.display_name, User.username)))


def is_supervisor(person: User) -> bool:
    return (person.role == "supervisor" and person.active) or db.session.scalar(
        select(SupervisorProfile.id).where(SupervisorProfile.user_id == person.id)) is not None


def profiles_by_user(user, user_ids) -> dict[str, SupervisorProfile]:
    ids = list(user_ids)
    if not ids:
        return {}
    rows = db.session.scalars(scoped(SupervisorProfile, user).where(SupervisorProfile.user_id.in_(ids)))
    return {p.user_id: p for p in rows}


# ---- profiles ----------------------------------------------------------------------------------

def save_profile(user, supervisor: User, data: dict) -> SupervisorProfile:
    """Create or update the supervisor's profile from ProfileArgs data; managers and admins only."""
    if not can_manage(user):
        raise PermissionError
    profile = db.session.scalar(select(SupervisorProfile).where(SupervisorProfile.user_id == supervisor.id))
    if profile is None:
        profile = SupervisorProfile(user_id=supervisor.id)
        db.session.add(profile)
    profile.selection_source = data["selection_source"]
    profile.experience_years = data.get("experience_years")
    profile.qualifications = data.get("qualifications")
    # Newest first, so the page reads like a CV.
    profile.training_records = sorted(data.get("training_records", []), key=lambda r: r["date"], reverse=True)
    profile.recognitions = sorted(data.get("recognitions", []), key=lambda r: r["date"], reverse=True)
    db.session.flush()
    record_audit(user, "supervisor_profile.saved", "supervisor_profile", profile.id,
                 {"user_id": supervisor.id, "training_records": len(profile.training_records),
                  "recognitions": len(profile.recognitions)})
    return profile


# ---- visit ratings -----------------------------------------------------------------------------

def can_rate(user, visit: Visit) -> bool:
    """A department head rates the visits of their own department."""
    return user.role == "dept_head" and user.department_id is not None and \
        visit.department_id == user.department_id


def rating_of(user, visit: Visit) -> VisitRating | None:
    return db.session.scalar(scoped(VisitRating, user).where(
        VisitRating.visit_id == visit.id, VisitRating.rated_by == user.id))


def rate_visit(user, visit: Visit, data: dict) -> VisitRating:
    """Rate (or re-rate) a completed visit of the rater's department: one rating per visit per rater."""
    if not can_rate(user, visit):
        raise RatingError("forbidden", 403)
    if visit.status != "completed" or visit.deleted_at is not None:
        raise RatingError(_("Only a completed visit can be rated."))
    rating = rating_of(user, visit)
    created = rating is None
    if created:
        rating = VisitRating(visit_id=visit.id, rated_by=user.id, score=data["score"])
        db.session.add(rating)
    rating.score = data["score"]
    rating.comment = data.get("comment")
    rating.teamwork_note = data.get("teamwork_note")
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # Two tabs rated at once: the unique constraint kept one; apply this one to it.
        rating = rating_of(user, visit)
        rating.score, rating.comment, rating.teamwork_note = \
            data["score"], data.get("comment"), data.get("teamwork_note")
        db.session.flush()
        created = False
    record_audit(user, "visit_rating.created" if created else "visit_rating.updated", "visit", visit.id,
                 {"score": rating.score})
    return rating


# ---- the scorecard's records -------------------------------------------------------------------

def scorecard_for(user, supervisor_id: str, period: Period, today: date | None = None) -> Scorecard:
    """Query what the scorecard needs (a superset, narrowed by the pure functions) and compute it."""
    tz = company_tz()
    start, end = period.bounds(tz)
    visits = db.session.scalars(_planned(user, Visit.supervisor_id == supervisor_id, period)
                                .options(selectinload(Visit.site))).all()
    findings = db.session.scalars(scoped(Finding, user).where(
        Finding.supervisor_id == supervisor_id, *_found_in(start, end))).all()
    rectifications = db.session.scalars(scoped(Rectification, user).join(
        Finding, Finding.id == Rectification.finding_id).where(
        Finding.supervisor_id == supervisor_id, *_accepted_in(start, end))
        .options(selectinload(Rectification.finding))).all()
    ratings = db.session.scalars(_rated(user, Visit.supervisor_id == supervisor_id, start, end)
        .options(selectinload(VisitRating.visit).selectinload(Visit.site),
                 selectinload(VisitRating.visit).selectinload(Visit.department),
                 selectinload(VisitRating.rater))).all()
    card = compute_scorecard(period, tz, visits=visits, findings=findings, rectifications=rectifications,
                             ratings=ratings, today=today)
    card.agreement = supervisor_agreement(supervisor_id, period, tz)
    return card


def scorecards_for(user, supervisor_ids, period: Period, today: date | None = None) -> dict[str, Scorecard]:
    """The scorecards of many supervisors for one period (the ranking): what `scorecard_for` finds
    for each, under the same conditions, with the findings and the accepted rectifications —
    thousands a quarter at chain scale — counted by the database, grouped by supervisor, instead of
    loaded one supervisor at a time (tests/results/supervisors/test_operations.py compares the two
    figure by figure). Every supervisor's are counted and those asked kept: the ranking asks for all,
    and naming a hundred of them in the query made PostgreSQL read the whole findings table for the
    rectifications' join."""
    ids = list(supervisor_ids)
    if not ids:
        return {}
    tz = company_tz()
    start, end = period.bounds(tz)
    # The visits as rows of what a scorecard reads of them (plan_progress, planned_visits): a chain's
    # quarter is thousands, and loading each as a record was a fifth of the page's time.
    visits = db.session.execute(_planned(user, Visit.supervisor_id.in_(ids), period).with_only_columns(
        Visit.supervisor_id, Visit.plan_id, Visit.status, Visit.due_by, Visit.scheduled_for, Visit.deleted_at)).all()
    found = db.session.execute(
        select(Finding.supervisor_id, func.count(), _how_many(Finding.status == "closed"),
               _how_many(Finding.repeat_of_id.is_not(None)))
        .where(scope_clause(Finding, user), *_found_in(start, end))
        .group_by(Finding.supervisor_id)).all()
    accepted = db.session.execute(
        select(Finding.supervisor_id, func.count(), _how_many(accepted_first_round_clause()))
        .select_from(Rectification).join(Finding, Finding.id == Rectification.finding_id)
        .where(scope_clause(Rectification, user), *_accepted_in(start, end))
        .group_by(Finding.supervisor_id)).all()
    ratings = db.session.scalars(_rated(user, Visit.supervisor_id.in_(ids), start, end)
                                 .options(selectinload(VisitRating.visit))).all()
    agreements = agreements_in(period, tz)
    visits_of, ratings_of = {}, {}
    for v in visits:
        visits_of.setdefault(v.supervisor_id, []).append(v)
    for r in ratings:
        ratings_of.setdefault(r.visit.supervisor_id, []).append(r)
    found_of = {sid: (n, closed, repeats) for sid, n, closed, repeats in found}
    accepted_of = {sid: (n, first) for sid, n, first in accepted}
    cards = {}
    for sid in ids:
        n, closed, repeats = found_of.get(sid, (0, 0, 0))
        n_accepted, first = accepted_of.get(sid, (0, 0))
        cards[sid] = counted_scorecard(period, tz, found=n, resolved=closed, repeats=repeats, accepted=n_accepted,
                                       first_round=first, visits=visits_of.get(sid, ()),
                                       ratings=ratings_of.get(sid, ()), today=today)
        cards[sid].agreement = agreements.get(sid, Agreement())
    return cards


# The records a scorecard reads, for one supervisor or many (`whose`: a condition on Visit.supervisor_id).

def _planned(user, whose, period: Period):
    """Visits from a plan scheduled in the period."""
    return scoped(Visit, user).where(whose, Visit.deleted_at.is_(None), Visit.plan_id.is_not(None),
                                     Visit.scheduled_for >= period.start, Visit.scheduled_for < period.end)


def _found_in(start, end) -> tuple:
    """Findings that count, captured in [start, end)."""
    return Finding.counted(), Finding.captured_at >= start, Finding.captured_at < end


def _accepted_in(start, end) -> tuple:
    """Rectifications, joined to their finding, accepted in [start, end), of findings that count."""
    return (Finding.counted(), Rectification.status == "accepted", Rectification.accepted_at >= start,
            Rectification.accepted_at < end)


def _rated(user, whose, start, end):
    """Ratings of visits completed in [start, end)."""
    return scoped(VisitRating, user).join(Visit, Visit.id == VisitRating.visit_id).where(
        whose, Visit.deleted_at.is_(None), Visit.status == "completed", Visit.completed_at >= start,
        Visit.completed_at < end)


def _how_many(condition):
    """How many rows of a group meet the condition (0 for none), in SQL both databases speak."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
