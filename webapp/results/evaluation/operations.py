"""Summary evaluation (总结评估) use cases: who may write, saving, and gathering the before/after
comparison of a visit or a plan (the arithmetic is in compare.py). Operations flush, never commit."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from webapp.audit.operations import record_audit
from webapp.authz import (
    EVERYTHING,
    evaluation_subject_roles,
    get_scoped_or_404,
    plan_evaluation_clause,
    scope_clause,
    scoped,
)
from webapp.checklists.models import ChecklistTemplate
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.org.models import Site
from webapp.plans.models import Plan
from webapp.results.errors import ResultsError
from webapp.results.evaluation import compare
from webapp.results.models import Evaluation
from webapp.visits.models import ChecklistAnswer, Metric, Visit
from webapp.visits.scoring import score_by_area

TEXT_FIELDS = ("lessons", "went_well", "went_badly", "suggestions")


class EvaluationError(ResultsError):
    pass


# ---- who ---------------------------------------------------------------------------------------

def visit_for_evaluation(user, visit_id) -> Visit:
    """The visit if the user may read its evaluation (404 otherwise, like any unseen record)."""
    if not evaluation_subject_roles(user):
        raise NotFound()
    return get_scoped_or_404(Visit, visit_id, user)


def plan_for_evaluation(user, plan_id) -> Plan:
    plan = db.session.execute(scoped(Plan, user).where(
        Plan.id == plan_id, Plan.deleted_at.is_(None), plan_evaluation_clause(user))).scalar_one_or_none()
    if plan is None:
        raise NotFound()
    return plan


def can_write_visit_evaluation(user, visit: Visit) -> bool:
    return user.role in EVERYTHING or (user.role == "supervisor" and visit.supervisor_id == user.id)


def can_write_plan_evaluation(user, plan: Plan) -> bool:
    return user.role in EVERYTHING or (user.role == "supervisor" and plan.author_id == user.id)


# ---- the evaluation itself ---------------------------------------------------------------------

def evaluation_of(visit: Visit | None = None, plan: Plan | None = None) -> Evaluation | None:
    column, subject = (Evaluation.visit_id, visit) if visit is not None else (Evaluation.plan_id, plan)
    return db.session.scalar(select(Evaluation).where(column == subject.id))


def save_evaluation(user, data: dict, *, visit: Visit | None = None, plan: Plan | None = None) -> Evaluation:
    """Create or update the evaluation of a visit or a plan (exactly one of them)."""
    if (visit is None) == (plan is None):
        raise ValueError("an evaluation belongs to a visit or a plan")
    allowed = can_write_visit_evaluation(user, visit) if visit is not None else can_write_plan_evaluation(user, plan)
    if not allowed:
        raise EvaluationError(_("Only the supervisor in charge or management can write this evaluation."), status=403)
    values = {k: (data.get(k) or "").strip() or None for k in TEXT_FIELDS}
    if not any(values.values()):
        raise EvaluationError(_("Write at least one part of the evaluation."))
    evaluation = evaluation_of(visit, plan)
    created = evaluation is None
    if created:
        evaluation = Evaluation(visit_id=visit.id if visit else None, plan_id=plan.id if plan else None,
                                author_id=user.id)
        db.session.add(evaluation)
    for key, value in values.items():
        setattr(evaluation, key, value)
    db.session.flush()
    record_audit(user, "evaluation.created" if created else "evaluation.updated", "evaluation", evaluation.id,
                 {"visit_id": evaluation.visit_id, "plan_id": evaluation.plan_id})
    return evaluation


# ---- comparison of a visit ---------------------------------------------------------------------

def _live(model, user, visit_ids):
    if not visit_ids:
        return []
    return db.session.scalars(scoped(model, user).where(
        model.visit_id.in_(list(visit_ids)), model.deleted_at.is_(None))).all()


def _scores(visit, answers) -> dict:
    return score_by_area(visit.template.items, [a for a in answers if a.visit_id == visit.id])


def visit_comparison(user, visit: Visit, tz: str) -> dict:
    """This visit against the previous completed visit at the same site that the user can see."""
    q = scoped(Visit, user).where(Visit.site_id == visit.site_id, Visit.status == "completed",
                                  Visit.deleted_at.is_(None), Visit.id != visit.id)
    if (ref := compare.reference_time(visit)) is not None:
        q = q.where(Visit.completed_at < ref)
    candidates = db.session.scalars(q.order_by(Visit.completed_at.desc()).limit(5)).all()
    previous = compare.previous_visit(visit, candidates)
    ids = [visit.id] + ([previous.id] if previous else [])
    metrics = _live(Metric, user, ids)
    answers = _live(ChecklistAnswer, user, ids)
    findings = _live(Finding, user, ids)
    mine = [f for f in findings if f.visit_id == visit.id]
    before = [f for f in findings if previous and f.visit_id == previous.id]
    return {
        "previous": previous,
        "metrics": compare.compare_metrics([m for m in metrics if previous and m.visit_id == previous.id],
                                           [m for m in metrics if m.visit_id == visit.id]),
        "findings": compare.compare_findings(compare.summarise_findings(before) if previous else None,
                                             compare.summarise_findings(mine)),
        "scores": compare.compare_scores(_scores(previous, answers) if previous else None, _scores(visit, answers)),
        "window_after": compare.visit_window(visit, mine, tz),
        "window_before": compare.visit_window(previous, before, tz) if previous else None,
    }


# ---- comparison of a plan ----------------------------------------------------------------------

def plan_sites(plan: Plan) -> list[Site]:
    """The plan's sites: those named in its scope and those it visits; failing both, every site of its
    departments."""
    sites = {s.id: s for s in plan.sites}
    visit_site_ids = db.session.scalars(select(Visit.site_id).where(
        Visit.plan_id == plan.id, Visit.deleted_at.is_(None))).all()
    for site in db.session.scalars(select(Site).where(Site.id.in_(set(visit_site_ids)))):
        sites[site.id] = site
    if not sites and plan.departments:
        for site in db.session.scalars(select(Site).where(
                Site.department_id.in_([d.id for d in plan.departments]), Site.deleted_at.is_(None))):
            sites[site.id] = site
    return sorted(sites.values(), key=lambda s: s.code)


def _utc_bounds(window, tz) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    return (datetime.combine(window[0], time.min, zone),
            datetime.combine(window[1] + timedelta(days=1), time.min, zone))


def _window_data(user, site_ids, window, tz) -> dict:
    start, end = _utc_bounds(window, tz)
    findings = db.session.execute(select(Finding.site_id, Finding.severity, Finding.repeat_of_id).where(
        scope_clause(Finding, user), Finding.site_id.in_(site_ids), Finding.counted(),
        Finding.captured_at >= start, Finding.captured_at < end)).all()
    visits = db.session.scalars(scoped(Visit, user).where(
        Visit.site_id.in_(site_ids), Visit.status == "completed", Visit.deleted_at.is_(None),
        Visit.completed_at >= start, Visit.completed_at < end)
        .options(selectinload(Visit.template).selectinload(ChecklistTemplate.items))).all()
    ids = [v.id for v in visits]
    answers = _live(ChecklistAnswer, user, ids)
    return {"findings": findings, "visits": visits, "metrics": _live(Metric, user, ids),
            "scores": {v.id: _scores(v, answers) for v in visits}}


def plan_comparison(user, plan: Plan, tz: str) -> dict:
    """The plan's period against the period of the same length before it (the previous quarter for a
    quarterly plan), site by site and in total. A plan usually visits a site once, so "first against
    latest visit within the plan" would leave most sites with nothing to compare."""
    after_w = (plan.period_start, plan.period_end)
    before_w = compare.previous_window(plan.period_start, plan.period_end, plan.period_type)
    sites = plan_sites(plan)
    site_ids = [s.id for s in sites]
    empty = {"findings": [], "visits": [], "metrics": [], "scores": {}}
    b = _window_data(user, site_ids, before_w, tz) if site_ids else empty
    a = _window_data(user, site_ids, after_w, tz) if site_ids else empty

    rows = []
    for site in sites:
        def for_site(data, site_id=site.id):
            visits = [v for v in data["visits"] if v.site_id == site_id]
            return {"findings": compare.summarise_findings(f for f in data["findings"] if f.site_id == site_id),
                    "visits": len(visits),
                    "scores": compare.mean_scores(data["scores"][v.id] for v in visits)}
        old, new = for_site(b), for_site(a)
        rows.append({"site": site, "before": old, "after": new,
                     "count_change": compare.change(old["findings"]["count"], new["findings"]["count"]),
                     "score_change": compare.change(old["scores"]["overall"], new["scores"]["overall"])})
    total_before, total_after = compare.summarise_findings(b["findings"]), compare.summarise_findings(a["findings"])
    return {
        "window_before": before_w, "window_after": after_w, "sites": rows,
        "visits_before": len(b["visits"]), "visits_after": len(a["visits"]),
        "findings": compare.compare_findings(total_before, total_after),
        "scores": compare.compare_scores(compare.mean_scores(b["scores"].values()),
                                         compare.mean_scores(a["scores"].values())),
        "metrics": compare.compare_metrics(b["metrics"], a["metrics"]),
    }
