"""Imports every feature's models so the metadata (and Alembic) sees all tables."""

from webapp.audit.models import AuditEntry  # noqa: F401
from webapp.auth.models import ApiToken, LoginAttempt, User, UserIdentity, UserSession  # noqa: F401
from webapp.checklists.models import ChecklistTemplate, TemplateItem  # noqa: F401
from webapp.core.settings import AppSetting  # noqa: F401
from webapp.evidence.models import RecordEvidence, VisitCheckin  # noqa: F401
from webapp.exports.models import ExportJob  # noqa: F401
from webapp.findings.models import Finding, FindingComment, FindingReview  # noqa: F401
from webapp.notifications.models import Notification  # noqa: F401
from webapp.org.models import Department, Person, Site  # noqa: F401
from webapp.outbox.models import DeliveryAttempt, OutboxMessage, WebhookEndpoint  # noqa: F401
from webapp.photos.models import Photo  # noqa: F401
from webapp.plans.models import (  # noqa: F401
    Attachment,
    Plan,
    PlanNote,
    RecurrenceRule,
    RecurringVisit,
    ScheduledVisit,
)
from webapp.rectification.models import (  # noqa: F401
    AcceptanceRound,
    CoordinationNote,
    Rectification,
    RectificationUpdate,
)
from webapp.reports.models import CommunicationNote, Report, ReportSnapshot, ShareLink  # noqa: F401
from webapp.results.calibration.models import CalibrationPair  # noqa: F401
from webapp.results.dashboard.models import FindingTally, RectificationTally, SiteDayTally  # noqa: F401
from webapp.results.models import (  # noqa: F401
    DevelopmentNote,
    Evaluation,
    PointAppeal,
    PointEntry,
    PointRule,
    PolicySuggestion,
    SupervisorProfile,
    TrainingAttendance,
    TrainingPlan,
    VisitRating,
    Warning,
    WarningRule,
)
from webapp.sync_store.models import AppliedMutation, Change, Conflict, Revision  # noqa: F401
from webapp.visits.models import ChecklistAnswer, Interview, Meeting, Metric, Visit  # noqa: F401
