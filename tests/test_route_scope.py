"""Every route of every blueprint, as every role, against the objects of the other scope.

The walk is generated from `app.url_map.iter_rules()`: a new route is covered without being listed
here. Each URL argument is filled with an object of department 2 / sup2 (the `world` fixture plus
`other_scope` below: one object of every kind that has a URL), chosen by (blueprint, argument name)
in ARG_KINDS. An argument missing from ARG_KINDS fails the test with "map <endpoint> <arg>", so a
new route cannot slip through unmapped.

Each kind names the roles that may see its object (`visible`); every other role must be refused.
What a refusal may look like depends on why the role is refused:

- out of scope: 404, exactly as for an id that does not exist (webapp/authz.get_scoped_or_404),
  so guessing URLs tells nothing;
- a page the role may never use (the checklist editor for a supervisor, the points rules for a
  department head): 403, accepted only when a made-up id gets the same 403, i.e. the page refuses
  before it looks the object up (the results pages follow this rule too: docs/security.md,
  "Denials"). Management areas that hide themselves (/conflicts/) answer 404 the same way;
- the few answers that are neither, listed in ODD_REFUSALS with their reason; they too must be the
  same for a made-up id, and a redirect never leads to the object.

Never 2xx, never 5xx. Every record of the other scope carries a secret() text, and no answer to any
role (refusal, list, home page, sync pull, JSON API) shows the text of a record that role may not
read (SECRETS). Signed out, every route that
is not in PUBLIC redirects to the sign-in page (web) or answers 401 (API). And so that the walk
cannot pass by everything being 404: every role that may see the object gets something other than
404 on every GET page, and at least one of them a 2xx.

Records without a URL of their own (meetings, checklist answers, metrics, interviews, communication
notes, rectification updates, visit ratings) are reached only through their visit's or finding's
pages and the sync pull; they are covered here through those pages.
"""

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from tests.conftest import AuthActions, FreshContextClient, csrf_from
from tests.photos.images import jpeg
from webapp.auth.models import ApiToken, UserSession
from webapp.exports.models import ExportJob
from webapp.extensions import db
from webapp.notifications.models import Notification
from webapp.onboarding.store import save_preview
from webapp.org.models import Person
from webapp.outbox.models import OutboxMessage, WebhookEndpoint, WorkAppRobot
from webapp.photos.operations import process_upload, save_photo
from webapp.photos.storage import get_store
from webapp.plans.models import Attachment, Plan, PlanNote, ScheduledVisit
from webapp.rectification.models import Rectification, RectificationUpdate
from webapp.reports.models import Report, ShareLink
from webapp.results.models import (
    DevelopmentNote,
    Evaluation,
    PointAppeal,
    PointEntry,
    PointRule,
    PolicySuggestion,
    SupervisorProfile,
    TrainingPlan,
    Warning,
    WarningRule,
)
from webapp.sync_store.models import Conflict

LINK_EXPIRY = datetime(2026, 12, 20, tzinfo=UTC)  # after the pinned today: the links are live

ROLES = ("admin", "manager", "sup1", "sup2", "head1", "head2", "staff1")
MANAGEMENT = frozenset({"admin", "manager"})
_SCOPE2 = frozenset({"sup2", "head2"}) | MANAGEMENT


def secret(name: str) -> str:
    """The text put into one record of the other scope (ASCII, so JSON does not escape it)."""
    return f"[d2secret:{name}]"


# Who may read each record's text; every other role must never get it in any answer.
SECRETS = {
    "visit": _SCOPE2, "finding": _SCOPE2, "rectification": _SCOPE2, "rectification_update": _SCOPE2,
    "report": _SCOPE2, "conflict": _SCOPE2,
    "plan": frozenset({"sup2"}) | MANAGEMENT, "schedule_row": frozenset({"sup2"}) | MANAGEMENT,
    "plan_note": frozenset({"sup2"}) | MANAGEMENT, "attachment": frozenset({"sup2"}) | MANAGEMENT,
    "visit_evaluation": frozenset({"sup2", "head2"}) | MANAGEMENT,
    "plan_evaluation": frozenset({"sup2"}) | MANAGEMENT,
    "notification": frozenset({"sup2"}),
    "point_entry": frozenset({"head2"}) | MANAGEMENT, "point_appeal": frozenset({"head2"}) | MANAGEMENT,
    "development_note": frozenset({"head2"}) | MANAGEMENT,
    "training_plan": frozenset({"head1", "head2"}) | MANAGEMENT,
    "policy_suggestion": frozenset(ROLES) - {"staff1"},
    "supervisor_profile": frozenset({"sup2"}) | MANAGEMENT,
    "warning": MANAGEMENT,
    "webhook_endpoint": frozenset({"admin"}),
    "workapp_robot": frozenset({"admin"}),
}


def hidden_from(role) -> list[str]:
    return [secret(name) for name, readers in SECRETS.items() if role not in readers]


# Routes open to anyone; what they serve is not scoped by role (the share link's token is the key).
PUBLIC = {"auth.login", "auth.set_locale", "evidence.verify", "api.health", "api.create_token", "api.openapi",
          "mobile.service_worker", "static", "reports.shared", "reports.shared_photo",
          "setup.first_admin",  # open only while no account exists (tests/setup)
          "sso.start", "sso.callback"}  # single sign-on begins signed out (tests/sso)

# Refusals other than 403/404, with the reason each is harmless; each must equal the answer for a
# made-up id, and a redirect must not lead to the object.
ODD_REFUSALS = {
    # Opening someone else's notification leads to one's own list and marks nothing read: the same
    # as for a notification that does not exist.
    ("notifications.open_", "POST"): {302},
    # A photo is uploaded to its own hash: the body is checked against the address before anything
    # else, and an empty body never matches, whoever owns the hash.
    ("api.put_photo", "PUT"): {400},
}


@dataclass(frozen=True)
class Kind:
    attr: str  # key in the other_scope dict: the value that fills the argument
    visible: frozenset  # roles that may see the object
    missing: str  # a value naming no object of this kind


def _uuid() -> str:
    return str(uuid.uuid4())


KINDS = {
    "visit": Kind("visit", _SCOPE2, _uuid()),
    "finding": Kind("finding", _SCOPE2, _uuid()),
    "photo": Kind("photo", _SCOPE2, hashlib.sha256(b"no such photo").hexdigest()),
    # A draft plan of sup2's: its author and management (published plans are everyone's).
    "plan": Kind("plan", frozenset({"sup2"}) | MANAGEMENT, _uuid()),
    "schedule_row": Kind("schedule_row", frozenset({"sup2"}) | MANAGEMENT, _uuid()),
    "attachment": Kind("attachment", frozenset({"sup2"}) | MANAGEMENT, "987654321"),
    # A report communicated to department 2.
    "report": Kind("report", _SCOPE2, _uuid()),
    "share_link": Kind("share_link", _SCOPE2, "987654321"),
    # A revoked share link of that report: nobody may open it (the live one: test_live_share_link).
    "share_token": Kind("revoked_token", frozenset(), "no-such-token"),
    "conflict": Kind("conflict", _SCOPE2, "987654321"),
    # The conflict desk is management's.
    "desk_conflict": Kind("conflict", MANAGEMENT, "987654321"),
    "desk_record": Kind("finding", MANAGEMENT, _uuid()),
    "sync_entity": Kind("entity", frozenset(ROLES), "finding"),
    # A review act on a finding (webapp/findings/review.py): who may see it is the finding's business.
    "review_action": Kind("review_action", frozenset(ROLES), "no-such-act"),
    "template": Kind("template", MANAGEMENT, _uuid()),
    "notification": Kind("notification", frozenset({"sup2"}), "987654321"),
    "point_entry": Kind("point_entry", frozenset({"head2"}) | MANAGEMENT, "987654321"),
    "point_appeal": Kind("point_appeal", frozenset({"head2"}) | MANAGEMENT, _uuid()),
    "point_rule": Kind("point_rule", MANAGEMENT, _uuid()),
    # The policy log is open to everyone who takes part in supervision; staff do not see it.
    "policy_suggestion": Kind("policy_suggestion", frozenset(ROLES) - {"staff1"}, _uuid()),
    "supervisor": Kind("supervisor", frozenset({"sup2"}) | MANAGEMENT, _uuid()),
    # A user account in the administration (/admin/users): administrators only.
    "account": Kind("supervisor", frozenset({"admin"}), _uuid()),
    # The training calendar is company information for those who send people to it.
    "training_plan": Kind("training_plan", frozenset({"head1", "head2"}) | MANAGEMENT, _uuid()),
    "person": Kind("person", frozenset({"head2"}) | MANAGEMENT, _uuid()),
    "development_note": Kind("development_note", frozenset({"head2"}) | MANAGEMENT, _uuid()),
    "warning": Kind("warning", MANAGEMENT, _uuid()),
    "warning_rule": Kind("warning_rule", MANAGEMENT, _uuid()),
    # One's own sign-ins and API tokens (/account/): their owner only.
    "user_session": Kind("user_session", frozenset({"sup2"}), "987654321"),
    "api_token": Kind("api_token", frozenset({"sup2"}), "987654321"),
    # The organisation pages are the administrators' (webapp/org/views.py).
    "org_department": Kind("department", frozenset({"admin"}), _uuid()),
    "org_site": Kind("site", frozenset({"admin"}), _uuid()),
    # The message channels page (/admin/channels) is the administrator's alone.
    "outbox_message": Kind("outbox_message", frozenset({"admin"}), "987654321"),
    "webhook_endpoint": Kind("webhook_endpoint", frozenset({"admin"}), _uuid()),
    "workapp_robot": Kind("workapp_robot", frozenset({"admin"}), _uuid()),
    # An export job and its file (/exports/): the person who asked only; everyone else 404.
    "export_job": Kind("export_job", frozenset({"sup2"}), _uuid()),
    # Not objects: the phone shell answers every /m/ path alike (its data comes from the scoped
    # pull), static files are static.
    "shell_path": Kind("shell_path", frozenset(ROLES), "visit/" + _uuid()),
    "static_file": Kind("static_file", frozenset(ROLES), "css/app.css"),
    # A single-sign-on provider is no object; none is configured in this walk, so every answer is 404
    # (tests/sso signs in through configured ones).
    "sso_provider": Kind("sso_provider", frozenset(), "no-such-provider"),
    # An import preview is its uploader's alone: another administrator gets 404, other roles 403.
    "import_preview": Kind("import_preview", frozenset(), "NoSuchPreview0000000000"),
}

# (blueprint, URL argument) → kind. Keyed by blueprint because one name means different things in
# different blueprints (plan_id in training is a training plan).
ARG_KINDS = {
    ("account", "session_id"): "user_session",
    ("account", "token_id"): "api_token",
    ("api", "conflict_id"): "conflict",
    ("api", "sha256"): "photo",
    ("channels", "endpoint_id"): "webhook_endpoint",
    ("channels", "robot_id"): "workapp_robot",
    ("channels", "message_id"): "outbox_message",
    ("exports", "job_id"): "export_job",
    ("go", "kind"): "sync_entity",  # "finding": the card link of the other scope's finding
    ("go", "object_id"): "finding",
    ("exports", "report_id"): "report",
    ("checklists", "template_id"): "template",
    ("onboarding", "preview_id"): "import_preview",
    ("conflicts", "conflict_id"): "desk_conflict",
    ("conflicts", "entity"): "sync_entity",
    ("conflicts", "record_id"): "desk_record",
    ("evaluation", "plan_id"): "plan",
    ("evaluation", "visit_id"): "visit",
    ("findings", "finding_id"): "finding",
    ("findings", "action"): "review_action",
    ("mobile", "_route"): "shell_path",
    ("notifications", "notification_id"): "notification",
    ("org", "department_id"): "org_department",
    ("org", "site_id"): "org_site",
    ("plans", "attachment_id"): "attachment",
    ("plans", "plan_id"): "plan",
    ("plans", "row_id"): "schedule_row",
    ("points", "appeal_id"): "point_appeal",
    ("points", "entry_id"): "point_entry",
    ("points", "rule_id"): "point_rule",
    ("policy", "suggestion_id"): "policy_suggestion",
    ("rectification", "finding_id"): "finding",
    ("reports", "link_id"): "share_link",
    ("reports", "report_id"): "report",
    ("reports", "sha256"): "photo",
    ("reports", "token"): "share_token",
    ("static", "filename"): "static_file",
    ("supervisors", "user_id"): "supervisor",
    ("supervisors", "visit_id"): "visit",
    ("training", "note_id"): "development_note",
    ("users", "user_id"): "account",
    ("training", "person_id"): "person",
    ("training", "plan_id"): "training_plan",
    ("visits", "visit_id"): "visit",
    ("warnings", "rule_id"): "warning_rule",
    ("warnings", "warning_id"): "warning",
    ("sso", "provider"): "sso_provider",
}


# ---- the other scope -----------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture
def other_scope(world, create_template):
    """One object of every kind that has a URL, all of department 2 / sup2 (or management's)."""
    d2, s2 = world["depts"][1], world["sites"][1]
    u = world["users"]
    sup2, head2, manager = u["sup2"], u["head2"], u["manager"]
    visit, finding = world["visits"][1], world["findings"][1]
    now = datetime.now(UTC)
    visit.status, visit.started_at, visit.completed_at = "completed", now, now
    template = visit.template

    data = jpeg((64, 48))
    sha = hashlib.sha256(data).hexdigest()
    save_photo(sha, data, process_upload(data), sup2)
    finding.photos, finding.status, finding.title = [sha], "rectifying", secret("finding")
    visit.summary = secret("visit")

    plan = Plan(title=secret("plan"), period_type="quarterly", period_start=date(2026, 10, 1),
                period_end=date(2026, 12, 31), status="draft", author_id=sup2.id, departments=[d2], sites=[s2])
    db.session.add(plan)
    db.session.flush()
    row = ScheduledVisit(plan_id=plan.id, site_id=s2.id, window_start=date(2026, 12, 1),
                         window_end=date(2026, 12, 5), supervisor_ids=[sup2.id], template_id=template.id,
                         note=secret("schedule_row"))
    note = PlanNote(plan_id=plan.id, kind="gather", body=secret("plan_note"), author_id=sup2.id)
    db.session.add_all([row, note])
    db.session.flush()
    body = secret("attachment").encode()
    get_store().put(hashlib.sha256(body).hexdigest(), body)
    attachment = Attachment(note_id=note.id, filename=secret("attachment") + ".txt", sha256=hashlib.sha256(body).hexdigest(),
                            content_type="text/plain", size=len(body), uploaded_by=sup2.id)

    report = Report(visit_id=visit.id, title=secret("report"), status="communicated", author_id=sup2.id,
                    approved_at=now, communicated_at=now)
    db.session.add_all([attachment, report])
    db.session.flush()
    live = ShareLink(report_id=report.id, token_hash=_token_hash("live-d2-token"), created_by=sup2.id,
                     expires_at=LINK_EXPIRY)
    revoked = ShareLink(report_id=report.id, token_hash=_token_hash("revoked-d2-token"), created_by=sup2.id,
                        expires_at=LINK_EXPIRY,
                        revoked_at=now)

    rect = Rectification(finding_id=finding.id, measures=secret("rectification"), owner="乙", deadline=date(2026, 12, 15),
                         status="rectifying", submitted_by=head2.id)
    update = RectificationUpdate(finding_id=finding.id, note=secret("rectification_update"), progress=50, photos=[sha], author_id=head2.id)
    conflict = Conflict(entity="finding", record_id=finding.id, field="title", base="旧", server="新",
                        client=secret("conflict"), user_id=sup2.id, department_id=d2.id, supervisor_id=sup2.id)
    notification = Notification(user_id=sup2.id, kind="overdue", message=secret("notification"),
                                link=f"/findings/{finding.id}")
    point_rule = PointRule(code="D2-RULE", name="二部规则", trigger="finding_severity", severity="medium", points=-2)
    evaluations = [Evaluation(visit_id=visit.id, lessons=secret("visit_evaluation"), author_id=sup2.id),
                   Evaluation(plan_id=plan.id, lessons=secret("plan_evaluation"), author_id=sup2.id)]
    person = Person(code="P-D2", name="乙员工", department_id=d2.id)
    training = TrainingPlan(topic=secret("training_plan"), held_on=date(2026, 12, 10))
    warning_rule = WarningRule(kind="high_severity_open", threshold=3)
    suggestion = PolicySuggestion(title=secret("policy_suggestion"), source_type="finding", source_id=finding.id, author_id=sup2.id)
    profile = SupervisorProfile(user_id=sup2.id, qualifications=secret("supervisor_profile"))
    db.session.add_all([live, revoked, rect, update, conflict, notification, point_rule, *evaluations, person,
                        training, warning_rule, suggestion, profile])
    db.session.flush()
    entry = PointEntry(target=f"department:{d2.id}", finding_id=finding.id, rule_id=point_rule.id,
                       department_id=d2.id, points=-2, cause_type="finding", cause_id=finding.id,
                       period="2026-Q4", note=secret("point_entry"), occurred_at=now)
    dev_note = DevelopmentNote(person_id=person.id, note=secret("development_note"), author_id=manager.id)
    warning = Warning(rule_id=warning_rule.id, kind="high_severity_open", subject_type="finding",
                      subject_id=finding.id, message=secret("warning"),
                      params={"days": 5, "title": secret("warning")})
    db.session.add_all([entry, dev_note, warning])
    db.session.flush()
    appeal = PointAppeal(entry_id=entry.id, reason=secret("point_appeal"), appellant_id=head2.id)
    sign_in = UserSession(user_id=sup2.id, token_hash=_token_hash("d2-session"), expires_at=LINK_EXPIRY)
    api_token = ApiToken(user_id=sup2.id, token_hash=_token_hash("d2-api-token"), device_name="d2",
                         expires_at=LINK_EXPIRY)
    db.session.add_all([appeal, sign_in, api_token])
    endpoint = WebhookEndpoint(name=secret("webhook_endpoint"), url="https://hooks.example.com/x",
                               events=["report.approved"], salt="salt")
    robot = WorkAppRobot(kind="wecom", name=secret("workapp_robot"),
                         url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", events=["report.approved"])
    db.session.add_all([endpoint, robot])
    db.session.flush()
    message = OutboxMessage(channel="webhook", event="report.approved", recipient=endpoint.id, payload={},
                            idempotency_key="route-scope-1", status="failed", attempts=8)
    get_store().put("export-route-scope", b"PK")
    export = ExportJob(user_id=sup2.id, kind="findings_xlsx", params={}, status="done", file_key="export-route-scope",
                       filename="findings.xlsx", mimetype="application/octet-stream", expires_at=LINK_EXPIRY)
    db.session.add_all([message, export])
    db.session.commit()
    return {
        "export_job": export.id,
        "outbox_message": str(message.id), "webhook_endpoint": endpoint.id, "workapp_robot": robot.id,
        "visit": visit.id, "finding": finding.id, "photo": sha, "plan": plan.id, "schedule_row": row.id,
        "attachment": str(attachment.id), "report": report.id, "share_link": str(live.id),
        "revoked_token": "revoked-d2-token", "live_token": "live-d2-token", "conflict": str(conflict.id),
        "entity": "finding", "review_action": "confirm", "template": template.id, "notification": str(notification.id),
        "point_entry": str(entry.id), "point_appeal": appeal.id, "point_rule": point_rule.id,
        "policy_suggestion": suggestion.id, "supervisor": sup2.id, "training_plan": training.id,
        "person": person.id, "development_note": dev_note.id, "warning": warning.id,
        "warning_rule": warning_rule.id, "user_session": str(sign_in.id), "api_token": str(api_token.id),
        "shell_path": f"visit/{visit.id}", "static_file": "css/app.css", "sso_provider": "wecom",
        "department": d2.id, "site": s2.id,
        "import_preview": save_preview(manager.id, {"parsed": {}, "result": {}}),
    }


# ---- the walk ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    rule: object
    endpoint: str
    kinds: dict  # argument → Kind
    visible: frozenset  # roles that may see every object the URL names

    def url(self, objs: dict | None) -> str:
        """The URL naming the other scope's objects (objs), or made-up ones (None)."""
        values = {arg: (objs[k.attr] if objs is not None else k.missing) for arg, k in self.kinds.items()}
        return self.rule.build(values, append_unknown=False)[1]

    def methods(self) -> list[str]:
        return sorted(self.rule.methods - {"HEAD", "OPTIONS"})


def routes(app) -> list[Route]:
    """Every rule of the URL map with its arguments mapped to kinds; fails on an unmapped argument."""
    out, unmapped = [], []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0] or rule.endpoint
        kinds = {}
        for arg in sorted(rule.arguments):
            kind = ARG_KINDS.get((blueprint, arg))
            if kind is None:
                unmapped.append(f"map {rule.endpoint} {arg}")
            else:
                kinds[arg] = KINDS[kind]
        visible = frozenset(ROLES)
        for k in kinds.values():
            visible &= k.visible
        out.append(Route(rule, rule.endpoint, kinds, visible))
    assert not unmapped, "URL arguments this test cannot fill:\n" + "\n".join(unmapped)
    return sorted(out, key=lambda r: (r.rule.rule, r.endpoint))


def send(client, method: str, url: str, csrf: str | None):
    if method == "GET":
        return client.get(url)
    # An empty form (and an empty body for the JSON API), with a valid CSRF token.
    data = {"csrf_token": csrf} if csrf else {}
    return client.open(url, method=method, data=data, headers={"X-CSRFToken": csrf} if csrf else {})


def signed_in(app, username: str | None):
    """A client of its own per role (None: signed out), with a CSRF token of its session."""
    app.test_client_class = FreshContextClient
    client = app.test_client()
    auth = AuthActions(client)
    if username is None:
        return client, csrf_from(client.get("/login").get_data(as_text=True))
    assert auth.login(username).status_code == 302
    return client, auth.csrf()


def refusal_problem(route: Route, method: str, role, r, probe, objs) -> str | None:
    """Why this answer to a role that may not see the object is wrong (None: it is a proper refusal)."""
    status = r.status_code
    if 200 <= status < 300 or status >= 500:
        return f"{status}"
    shown = shows_hidden(r, role)
    if shown:
        return f"{status} shows {shown}"
    location = r.headers.get("Location", "")
    if any(objs[k.attr] in location for k in route.kinds.values() if k.attr not in ("entity", "static_file")):
        return f"{status} redirects to the object ({location})"
    if status == 404:
        return None
    accepted = {403} | ODD_REFUSALS.get((route.endpoint, method), set())
    if status not in accepted:
        return f"{status} (expected 404{', ' + str(sorted(accepted)) if accepted else ''})"
    if probe is None or probe.status_code != status:
        return f"{status}, but {probe.status_code if probe else '—'} for a made-up id (tells the object exists)"
    return None


def shows_hidden(r, role) -> str | None:
    """The first text of a record the role may not read that the answer shows (text answers only:
    the PDF and Excel files are compressed)."""
    if not (r.mimetype or "").startswith(("text/", "application/json")):
        return None
    body = r.get_data(as_text=True)
    return next((m for m in hidden_from(role) if m in body), None)


def login_problem(r) -> str | None:
    """Why a signed-out answer is wrong (None: a redirect to sign in, or 401)."""
    if r.status_code == 401:
        return None
    if r.status_code in (302, 303) and r.headers.get("Location", "").startswith("/login"):
        return None
    return f"{r.status_code} {r.headers.get('Location', '')}".strip()


@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "signed-out"])
def test_every_route_as_every_role(app, world, other_scope, role):
    """Every route as `role`. Naming the other scope's objects it may not see, with every method:
    a proper refusal (signed out: the sign-in page or 401, public routes apart). Naming objects it
    may see (GET): not 404, not 5xx. Any page it gets: no text of a record it may not read (the
    lists, the sync pull and the home page included)."""
    client, csrf = signed_in(app, role)
    failures = []
    for route in routes(app):
        for method in route.methods():
            url = route.url(other_scope)
            if role is None and route.endpoint in PUBLIC and route.visible == frozenset(ROLES):
                continue  # public, naming no object
            if role is None and route.endpoint not in PUBLIC:
                r = send(client, method, url, csrf)
                problem = login_problem(r)
            elif route.kinds and role not in route.visible:
                r = send(client, method, url, csrf)
                probe = None if r.status_code == 404 else send(client, method, route.url(None), csrf)
                problem = refusal_problem(route, method, role, r, probe, other_scope)
                if probe is not None:
                    probe.close()
            elif method == "GET" and role is not None:
                r = client.get(url)
                problem = (f"{r.status_code}" if r.status_code >= 500 or (route.kinds and r.status_code == 404)
                           else shows_hidden(r, role))
            else:
                continue  # actions without an object (tested by their features), public pages signed out
            r.close()
            if problem:
                failures.append(f"{route.endpoint} {method} {url} as {role}: {problem}")
    if failures:
        pytest.fail(f"{len(failures)} wrong answers:\n" + "\n".join(failures), pytrace=False)


def test_every_object_page_opens_for_someone(app, world, other_scope):
    """Each GET page naming the other scope's objects opens (2xx) for at least one role that may see
    them: without this, the walk above would pass with every page answering 404."""
    clients = {}
    failures = []
    for route in routes(app):
        if "GET" not in route.methods() or not route.kinds or not route.visible:
            continue
        url, statuses = route.url(other_scope), {}
        for role in sorted(route.visible, key=lambda r: (r not in MANAGEMENT, r)):
            if role not in clients:
                clients[role] = signed_in(app, role)[0]
            r = clients[role].get(url)
            statuses[role] = r.status_code
            r.close()
            if 200 <= r.status_code < 300:
                break
            if route.endpoint == "go.go" and r.status_code == 303 and r.headers["Location"].endswith(url.split("/")[-1]):
                break  # a card link: it opens by redirecting to the object's page (tests/outbox/test_golinks.py)
        else:
            failures.append(f"{route.endpoint} GET {url}: {statuses}")
    if failures:
        pytest.fail("pages that open for none of their readers:\n" + "\n".join(failures), pytrace=False)


def test_live_share_link_opens_for_anyone_with_the_token(app, world, other_scope, client):
    """The public share routes' positive case (the walk gives them only the revoked token)."""
    token, sha = other_scope["live_token"], other_scope["photo"]
    r = client.get(f"/reports/shared/{token}")
    assert r.status_code == 200 and secret("report") in r.get_data(as_text=True)
    r = client.get(f"/reports/shared/{token}/photos/{sha}")
    assert r.status_code == 200 and r.mimetype.startswith("image/")
    assert client.get(f"/reports/shared/{token}/photos/{KINDS['photo'].missing}").status_code == 404


# ---- a child under another parent ----------------------------------------------------------

@pytest.fixture
def own_scope(world, other_scope):
    """Parents of sup1's own (department 1), for the URLs that name a parent and a child: a draft
    plan, an approved report and its live share link. Keyed like other_scope."""
    sup1, v1 = world["users"]["sup1"], world["visits"][0]
    plan = Plan(title="一部计划", period_type="quarterly", period_start=date(2026, 10, 1),
                period_end=date(2026, 12, 31), status="draft", author_id=sup1.id, departments=[world["depts"][0]])
    report = Report(visit_id=v1.id, title="一部报告", status="approved", author_id=sup1.id,
                    approved_at=datetime.now(UTC))
    db.session.add_all([plan, report])
    db.session.flush()
    db.session.add(ShareLink(report_id=report.id, token_hash=_token_hash("live-d1-token"), created_by=sup1.id,
                             expires_at=LINK_EXPIRY))
    db.session.commit()
    return {"plan": plan.id, "report": report.id, "revoked_token": "live-d1-token"}


def path_args(route: Route) -> list[str]:
    """The URL's arguments in the order they appear in its path (the parent first)."""
    return [a for a in re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", route.rule.rule) if a in route.kinds]


@pytest.mark.parametrize("role", ["sup1", "manager"])
def test_a_child_under_another_parent_is_refused(app, world, other_scope, own_scope, role):
    """A URL naming the role's own parent (plan, report, share link) and the other scope's child
    (schedule row, share link, photo) is refused like a made-up child, even for management, who
    see both: the child must belong to the parent the URL names."""
    client, csrf = signed_in(app, role)
    failures, walked = [], 0
    for route in routes(app):
        args = path_args(route)
        if len(args) < 2 or route.kinds[args[0]].attr not in own_scope:
            continue
        parent = {args[0]: own_scope[route.kinds[args[0]].attr]}
        children = {a: other_scope[route.kinds[a].attr] for a in args[1:]}
        made_up = {a: route.kinds[a].missing for a in args[1:]}
        for method in route.methods():
            walked += 1
            url = route.rule.build({**parent, **children}, append_unknown=False)[1]
            r = send(client, method, url, csrf)
            probe = None
            if r.status_code != 404:
                probe = send(client, method, route.rule.build({**parent, **made_up}, append_unknown=False)[1], csrf)
            problem = refusal_problem(route, method, role, r, probe, other_scope)
            for resp in (r, probe):
                if resp is not None:
                    resp.close()
            if problem:
                failures.append(f"{route.endpoint} {method} {url} as {role}: {problem}")
    assert walked >= 5, "the nested routes were not found"
    if failures:
        pytest.fail(f"{len(failures)} wrong answers:\n" + "\n".join(failures), pytrace=False)
