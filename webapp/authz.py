"""The one rulebook: who may see what, and who may do what, for the web pages, the exports, the
PDF, the share links and the sync pull and push alike.

Seeing (`scope_clause`, `scoped`, `get_scoped_or_404`, `can_see`): supervisor — the visits they
own now and everything inside them; dept_head and staff — their department's visits, the findings
their department is responsible for (staff: only those naming them); manager and admin —
everything. Access is computed from the owner (a visit's supervisor and department, a finding's
responsible department), never from a copy, so it follows a reassignment at once. Reference data
(departments, sites, people, checklist templates) is visible to every signed-in user. A model this
module does not know is visible to nobody: it fails closed.

Doing (`can`): one vocabulary of actions for every entry point; an action it does not know is
refused.
"""

from sqlalchemy import false, or_, select, true
from werkzeug.exceptions import Forbidden, NotFound

from webapp.checklists.models import ChecklistTemplate, TemplateItem
from webapp.evidence.models import VisitCheckin
from webapp.exports.models import ExportJob
from webapp.extensions import db
from webapp.findings.models import Finding, FindingComment
from webapp.org.models import Department, Person, Site
from webapp.plans.models import Plan, plan_departments, plan_sites
from webapp.rectification.models import AcceptanceRound, CoordinationNote, Rectification, RectificationUpdate
from webapp.reports.models import CommunicationNote, Report, ShareLink
from webapp.results.calibration.models import CalibrationPair
from webapp.results.models import (
    DevelopmentNote,
    Evaluation,
    PointAppeal,
    PointEntry,
    PolicySuggestion,
    SupervisorProfile,
    TrainingPlan,
    VisitRating,
    Warning,
    WarningRule,
)
from webapp.visits.models import ChecklistAnswer, Interview, Meeting, Metric, Visit

EVERYTHING = ("manager", "admin")
ROLES = ("admin", "manager", "supervisor", "dept_head", "staff")
REFERENCE_MODELS = (Department, Site, Person, ChecklistTemplate, TemplateItem)


class _CompanyWide:
    """The scope company-wide figures are computed in by the job queue (the dashboard's snapshots):
    that of a role in EVERYTHING, as a principal the scope rules accept. It is no account: nobody
    signs in as it, and `can` grants it no action. The pages showing such figures let only users
    whose own scope is everything read them."""

    role = EVERYTHING[0]
    id = None
    department_id = None
    is_authenticated = True
    is_active = True


COMPANY_WIDE = _CompanyWide()


def _owned_visits(user):
    """Ids of the visits a supervisor owns now."""
    return select(Visit.id).where(Visit.supervisor_id == user.id)


def visit_clause(user):
    if user.role in EVERYTHING:
        return true()
    if user.role == "supervisor":
        return Visit.supervisor_id == user.id
    if user.role in ("dept_head", "staff") and user.department_id:
        return Visit.department_id == user.department_id
    return false()


def finding_clause(user):
    if user.role in EVERYTHING:
        return true()
    if user.role == "supervisor":
        # Through the visit's owner, not the copy on the finding: a reassignment moves it at once.
        return Finding.visit_id.in_(_owned_visits(user))
    if user.role == "dept_head" and user.department_id:
        return Finding.department_id == user.department_id
    if user.role == "staff" and user.department_id:
        # Staff see the items they are named responsible for.
        return (Finding.department_id == user.department_id) & (
            Finding.responsible_person == user.display_name
        )
    return false()


def plan_clause(user):
    if user.role in EVERYTHING:
        return true()
    if user.role == "supervisor":
        return or_(Plan.author_id == user.id, Plan.status.in_(("published", "closed")))
    return Plan.status.in_(("published", "closed"))


def supervisor_profile_clause(user):
    """Supervisor profiles: managers and admins see all, a supervisor their own, nobody else any."""
    if user.role in EVERYTHING:
        return true()
    if user.role == "supervisor":
        return SupervisorProfile.user_id == user.id
    return false()


def developing_person_clause(user):
    """Whose development record (findings as evidence, notes, trainings) a user may read: managers
    and admins everyone's, a department head their own department's people."""
    if user.role in EVERYTHING:
        return true()
    if user.role == "dept_head" and user.department_id:
        return Person.department_id == user.department_id
    return false()


def development_note_clause(user):
    if user.role in EVERYTHING:
        return true()
    return DevelopmentNote.person_id.in_(select(Person.id).where(developing_person_clause(user)))


def training_plan_clause(user):
    # The training calendar is company information for those who send people to it.
    return true() if user.role in (*EVERYTHING, "dept_head") else false()


def managers_only(_model):
    return lambda user: true() if user.role in EVERYTHING else false()


def _through_visit(model):
    def clause(user):
        if user.role in EVERYTHING:
            return true()
        return model.visit_id.in_(select(Visit.id).where(visit_clause(user)))

    return clause


def _through_finding(model):
    def clause(user):
        if user.role in EVERYTHING:
            return true()
        return model.finding_id.in_(select(Finding.id).where(finding_clause(user)))

    return clause


def point_entry_clause(user):
    """The points ledger: a department head sees their department's entries (person entries carry the
    department too); nobody else below management sees any."""
    if user.role in EVERYTHING:
        return true()
    if user.role == "dept_head" and user.department_id:
        return PointEntry.department_id == user.department_id
    return false()


def point_appeal_clause(user):
    if user.role in EVERYTHING:
        return true()
    return PointAppeal.entry_id.in_(select(PointEntry.id).where(point_entry_clause(user)))
def evaluation_subject_roles(user) -> bool:
    """Who reads summary evaluations at all (staff do not)."""
    return user.role in (*EVERYTHING, "supervisor", "dept_head")


def department_plans(department_id):
    """Ids of the plans that cover a department (named in its scope, or one of its sites)."""
    return select(plan_departments.c.plan_id).where(plan_departments.c.department_id == department_id).union(
        select(plan_sites.c.plan_id).join(Site, Site.id == plan_sites.c.site_id)
        .where(Site.department_id == department_id))


def plan_evaluation_clause(user):
    """Plans whose evaluation the user may read: the plans they see; a department head only those
    covering their department."""
    if user.role in EVERYTHING:
        return true()
    if not evaluation_subject_roles(user):
        return false()
    if user.role == "dept_head":
        if not user.department_id:
            return false()
        return plan_clause(user) & Plan.id.in_(department_plans(user.department_id))
    return plan_clause(user)


def evaluation_clause(user):
    """An evaluation is read by whoever reads its visit or plan (staff: none)."""
    if user.role in EVERYTHING:
        return true()
    if not evaluation_subject_roles(user):
        return false()
    return or_(Evaluation.visit_id.in_(select(Visit.id).where(visit_clause(user))),
               Evaluation.plan_id.in_(select(Plan.id).where(plan_evaluation_clause(user))))


def policy_suggestion_clause(user):
    """The policy log (制度优化) is open to everyone who takes part in supervision; staff do not see it."""
    return true() if user.role in (*EVERYTHING, "supervisor", "dept_head") else false()


CLAUSES = {
    Visit: visit_clause,
    Finding: finding_clause,
    Plan: plan_clause,
    Meeting: _through_visit(Meeting),
    ChecklistAnswer: _through_visit(ChecklistAnswer),
    Metric: _through_visit(Metric),
    Interview: _through_visit(Interview),
    VisitCheckin: _through_visit(VisitCheckin),
    Report: _through_visit(Report),
    CommunicationNote: _through_visit(CommunicationNote),
    Rectification: _through_finding(Rectification),
    RectificationUpdate: _through_finding(RectificationUpdate),
    DevelopmentNote: development_note_clause,
    TrainingPlan: training_plan_clause,
    Warning: managers_only(Warning),
    WarningRule: managers_only(WarningRule),
    PointEntry: point_entry_clause,
    PointAppeal: point_appeal_clause,
    VisitRating: _through_visit(VisitRating),
    FindingComment: _through_finding(FindingComment),
    AcceptanceRound: _through_finding(AcceptanceRound),
    CoordinationNote: _through_finding(CoordinationNote),
    ShareLink: lambda user: ShareLink.report_id.in_(select(Report.id).where(CLAUSES[Report](user))),
    SupervisorProfile: supervisor_profile_clause,
    Evaluation: evaluation_clause,
    PolicySuggestion: policy_suggestion_clause,
    # An export's row and file: only the person who asked (guessing another's id finds nothing).
    ExportJob: lambda user: ExportJob.user_id == user.id,
    # A calibration pair names both inspectors' visits: management only, so that neither inspector
    # learns of the other's visit (the blind rule; see webapp/results/calibration).
    CalibrationPair: managers_only(CalibrationPair),
}


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and getattr(user, "role", None) in ROLES


def scope_clause(model, user):
    """The WHERE clause restricting `model` to what `user` may see. Reference data: everything; a
    model not named here: nothing (fail closed)."""
    if not _signed_in(user):
        return false()
    if model in REFERENCE_MODELS:
        return true()
    clause = CLAUSES.get(model)
    return clause(user) if clause else false()


def narrow_scope(model, user) -> bool:
    """Whether `user` sees a small part of `model`'s rows (a supervisor: the findings of the visits
    they own), for choosing a query plan only — never for deciding access (scope_clause does)."""
    return model is Finding and _signed_in(user) and user.role == "supervisor"


def scoped(model, user):
    """`select(model)` restricted to the user's scope; add filters and ordering to it."""
    return select(model).where(scope_clause(model, user))


def get_scoped_or_404(model, pk, user):
    """Fetch one record the user may see. Out of scope and missing look the same (404), so
    guessing URLs tells nothing."""
    pk_col = model.__mapper__.primary_key[0]
    obj = db.session.execute(scoped(model, user).where(pk_col == pk)).scalar_one_or_none()
    if obj is None:
        raise NotFound()
    return obj


def can_see(model, pk, user) -> bool:
    pk_col = model.__mapper__.primary_key[0]
    return db.session.execute(
        select(pk_col).where(pk_col == pk).where(scope_clause(model, user))
    ).first() is not None


# ---- actions ---------------------------------------------------------------------------------

def _visit_of(obj):
    if isinstance(obj, Visit):
        return obj
    visit_id = getattr(obj, "visit_id", None)
    return db.session.get(Visit, visit_id) if visit_id else None


def _may_record(user, visit) -> bool:
    """Record inside a visit (its meetings, answers, figures, interviews, findings): its owner."""
    if visit is None:
        return False
    return user.role in EVERYTHING or (user.role == "supervisor" and visit.supervisor_id == user.id)


def _is_responsible_head(user, finding) -> bool:
    return (finding is not None and user.role == "dept_head" and user.department_id is not None
            and user.department_id == finding.department_id)


def _may_decide_acceptance(user, finding) -> bool:
    if finding is None:
        return False
    if user.role in EVERYTHING:
        return True
    visit = db.session.get(Visit, finding.visit_id) if finding.visit_id else None
    return user.role == "supervisor" and visit is not None and visit.supervisor_id == user.id


ACTIONS = {
    # Every record there is (management): the sync pull and the conflicts list skip the scope query.
    "records.all": lambda user, _obj: user.role in EVERYTHING,
    # Sending records from a device at all (staff read, they do not record).
    "device.push": lambda user, _obj: user.role in (*EVERYTHING, "supervisor", "dept_head"),
    # Starting a visit (ad hoc on the phone, or planned): supervisors for themselves, management for anyone.
    "visit.create": lambda user, visit: user.role in EVERYTHING or (
        user.role == "supervisor" and (visit is None or visit.supervisor_id in (None, user.id))),
    "visit.record": lambda user, obj: _may_record(user, _visit_of(obj)),
    "visit.reassign": lambda user, _visit: user.role in EVERYTHING,
    # Completing a visit (desk or phone): whoever records in it; the template's rule on unanswered
    # items is webapp/visits/completion.py.
    "visit.complete": lambda user, visit: _may_record(user, _visit_of(visit)),
    # The rectification loop: the responsible department's head plans, reports progress, submits.
    "rectification.manage": _is_responsible_head,
    "acceptance.decide": _may_decide_acceptance,
    "conflict.resolve": lambda user, _c: user.role in EVERYTHING,
    # Visit frequencies by site class and generating the recurring visits: management, like approving plans.
    "plans.recurrence": lambda user, _obj: user.role == "manager",
    # The missed visits (应巡未巡) list and its export: management.
    "plans.missed": lambda user, _obj: user.role in EVERYTHING,
    # Scheduling a blind double inspection (calibration): management.
    "calibration.schedule": lambda user, _obj: user.role == "manager",
    # Early warnings (预警): management reads them and acts on them (acknowledge, snooze, close, check
    # now); an administrator changes the rules' thresholds.
    "warnings.view": lambda user, _obj: user.role in EVERYTHING,
    "warnings.act": lambda user, warning: user.role in EVERYTHING and (
        warning is None or isinstance(warning, Warning)),
    "warnings.rules": lambda user, _rule: user.role == "admin",
    # The review of a synced finding (confirm, correct, reject, merge): management, the findings it sees.
    "finding.review": lambda user, _finding: user.role in EVERYTHING,
    # Administration (管理员): people and their accounts, the organisation, bulk onboarding, the audit
    # log, sign-in and channel settings. Administrators only; every admin page and import asks here.
    "admin.users": lambda user, _obj: user.role == "admin",
    "admin.org": lambda user, _obj: user.role == "admin",
    "admin.import": lambda user, _obj: user.role == "admin",
    "admin.audit": lambda user, _obj: user.role == "admin",
    "admin.settings": lambda user, _obj: user.role == "admin",
    # An export job's file: the person who asked, while still signed in with an active account;
    # asked again at every download (the builder re-checks the records' scope when it runs).
    "export.download": lambda user, job: job is not None and job.user_id == user.id and user.active,
    # Checklist templates (the template library): administrators edit, management reads.
    "templates.edit": lambda user, _obj: user.role == "admin",
    "templates.view": lambda user, _obj: user.role in EVERYTHING,
    # One's own account (password, signed-in devices): every signed-in user, for themselves only.
    "account.manage": lambda user, account: account is None or getattr(account, "id", None) == user.id,
}


def can(user, action: str, obj=None) -> bool:
    """May `user` do `action` on `obj`? Unknown actions and users without a known role: no."""
    rule = ACTIONS.get(action)
    if rule is None or not _signed_in(user) or user is COMPANY_WIDE:
        return False
    return bool(rule(user, obj))


def require(user, action: str, obj=None) -> None:
    """`can`, or 403 Forbidden: for views whose page says who may use it (an admin page, say)."""
    if not can(user, action, obj):
        raise Forbidden()
