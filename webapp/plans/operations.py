"""Planning use cases (policy 三(一)): draft, schedule, notes, the approval workflow, publishing.

Operations flush and never commit; the view commits once.
"""

import hashlib
from pathlib import PurePath

from flask_babel import gettext as _
from sqlalchemy import select

from webapp.audit.operations import record_audit
from webapp.auth.models import User
from webapp.checklists.models import ChecklistTemplate
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.org.models import Department, Site
from webapp.photos.ingest import PhotoRejected
from webapp.photos.operations import record_upload, rejection_message, storage_failure, store_upload
from webapp.photos.storage import StorageError, get_store
from webapp.plans.models import PLAN_TRANSITIONS, Attachment, Plan, PlanNote, ScheduledVisit
from webapp.visits.models import Visit

DRAFTERS = ("supervisor", "manager", "admin")
EDITABLE = ("draft", "returned")
PARENT_TYPE = {"quarterly": "annual", "monthly": "quarterly"}
# Who may move a plan into each status: "author" means the plan's author (and managers).
TRANSITION_ROLES = {
    "submitted": ("author", "manager", "admin"),
    "approved": ("manager",),
    "returned": ("manager",),
    "published": ("manager",),
    "closed": ("manager",),
}
ATTACHMENT_TYPES = {
    ".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".webp": "image/webp", ".heic": "image/heic", ".heif": "image/heic",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".csv": "text/csv", ".txt": "text/plain",
}
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


class PlanError(Exception):
    """A rule of planning was broken; `fields` points at the form fields to fix."""

    def __init__(self, message: str, fields: dict | None = None, status: int = 409):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.status = status


class PlanPermissionError(PlanError):
    def __init__(self, message: str):
        super().__init__(message, status=403)


def can_draft(user) -> bool:
    return user.role in DRAFTERS


def can_edit(user, plan: Plan) -> bool:
    return plan.status in EDITABLE and (plan.author_id == user.id or user.role in ("manager", "admin"))


def may_transition(user, plan: Plan, to: str) -> bool:
    roles = TRANSITION_ROLES.get(to, ())
    return user.role in roles or ("author" in roles and plan.author_id == user.id)


def allowed_transitions(user, plan: Plan) -> list[str]:
    return [to for to in PLAN_TRANSITIONS[plan.status] if may_transition(user, plan, to)]


def _require_editable(user, plan: Plan) -> None:
    if plan.status not in EDITABLE:
        raise PlanError(_("Only a draft or returned plan can be changed."))
    if not can_edit(user, plan):
        raise PlanPermissionError(_("Only the plan's author or management can change it."))


def _load_all(model, ids, field, kept=()):
    """The chosen records; an archived site or department only when the plan already names it
    (`kept`): archived ones are offered for no new plan, and a plan that refers to one keeps working."""
    ids = list(dict.fromkeys(ids))
    found = db.session.scalars(select(model).where(model.id.in_(ids), model.deleted_at.is_(None))).all() if ids else []
    if len(found) != len(ids):
        raise PlanError(_("Some of the chosen entries no longer exist."), {field: [_("Choose again.")]}, 400)
    if any(getattr(o, "archived_at", None) is not None and o.id not in kept for o in found):
        msg = _("An archived site or department cannot be added to a plan; choose another.")
        raise PlanError(msg, {field: [msg]}, 400)
    order = {pk: n for n, pk in enumerate(ids)}
    return sorted(found, key=lambda o: order[o.id])


def _apply(plan: Plan, data: dict) -> None:
    parent_id = data.get("parent_id")
    if parent_id:
        parent = db.session.get(Plan, parent_id)
        want = PARENT_TYPE.get(data["period_type"])
        if parent is None or parent.deleted_at is not None or parent.id == plan.id:
            raise PlanError(_("The parent plan does not exist."), {"parent_id": [_("Choose again.")]}, 400)
        if parent.period_type != want:
            msg = (_("A monthly plan belongs to a quarterly plan.") if want == "quarterly"
                   else _("A quarterly plan belongs to an annual plan.") if want == "annual"
                   else _("An annual plan has no parent plan."))
            raise PlanError(msg, {"parent_id": [msg]}, 400)
        if not (parent.period_start <= data["period_start"] and data["period_end"] <= parent.period_end):
            msg = _("The period must lie within the parent plan's period.")
            raise PlanError(msg, {"parent_id": [msg]}, 400)
    plan.parent_id = parent_id or None
    for name in ("title", "period_type", "period_start", "period_end", "goals", "focus_notes", "methods",
                 "staffing"):
        setattr(plan, name, data.get(name))
    plan.focus_areas = list(data.get("focus_areas") or [])
    plan.departments = _load_all(Department, data.get("department_ids", []), "department_ids",
                                 {d.id for d in plan.departments})
    plan.sites = _load_all(Site, data.get("site_ids", []), "site_ids", plan_site_ids(plan))


def plan_site_ids(plan: Plan) -> set:
    """The sites a plan already refers to (its scope and its schedule): an archived one among them
    stays usable in that plan."""
    return {s.id for s in plan.sites} | {r.site_id for r in plan.schedule}


def create_plan(user, data: dict) -> Plan:
    if not can_draft(user):
        raise PlanPermissionError(_("Only supervisors and management can draft plans."))
    plan = Plan(author_id=user.id, status="draft", focus_areas=[])
    with db.session.no_autoflush:
        _apply(plan, data)
    db.session.add(plan)
    db.session.flush()
    record_audit(user, "plan.created", "plan", plan.id, {"title": plan.title})
    return plan


def update_plan(user, plan: Plan, data: dict) -> Plan:
    _require_editable(user, plan)
    with db.session.no_autoflush:
        _apply(plan, data)
    db.session.flush()
    record_audit(user, "plan.updated", "plan", plan.id)
    return plan


# ---- schedule ---------------------------------------------------------------------------------

def _check_schedule_refs(plan: Plan, data: dict) -> None:
    errors = {}
    site = db.session.get(Site, data["site_id"])
    if site is None or site.deleted_at is not None:
        errors["site_id"] = [_("Choose a site.")]
    elif site.archived_at is not None and site.id not in plan_site_ids(plan):
        errors["site_id"] = [_("This site is archived: it is offered for no new visit. Choose another.")]
    template = db.session.get(ChecklistTemplate, data["template_id"])
    if template is None or template.deleted_at is not None:
        errors["template_id"] = [_("Choose a checklist template.")]
    ids = list(dict.fromkeys(data["supervisor_ids"]))
    supervisors = db.session.scalars(select(User).where(User.id.in_(ids), User.role == "supervisor",
                                                        User.active.is_(True))).all()
    if len(supervisors) != len(ids) or not ids:
        errors["supervisor_ids"] = [_("Choose active supervisors only.")]
    if not (plan.period_start <= data["window_start"] and data["window_end"] <= plan.period_end):
        errors["window_start"] = [_("The window must lie within the plan's period ({start} – {end}).").format(
            start=plan.period_start.isoformat(), end=plan.period_end.isoformat())]
    if errors:
        raise PlanError(_("Some fields are not valid."), errors, 400)
    data["supervisor_ids"] = sorted(ids)


def add_scheduled_visit(user, plan: Plan, data: dict) -> ScheduledVisit:
    _require_editable(user, plan)
    _check_schedule_refs(plan, data)
    row = ScheduledVisit(plan_id=plan.id, site_id=data["site_id"], window_start=data["window_start"],
                         window_end=data["window_end"], supervisor_ids=data["supervisor_ids"],
                         template_id=data["template_id"], note=data.get("note"), visit_ids=[])
    db.session.add(row)
    db.session.flush()
    record_audit(user, "plan.schedule_added", "plan", plan.id, {"row": row.id})
    return row


def update_scheduled_visit(user, row: ScheduledVisit, data: dict) -> ScheduledVisit:
    _require_editable(user, row.plan)
    _check_schedule_refs(row.plan, data)
    for name in ("site_id", "window_start", "window_end", "supervisor_ids", "template_id", "note"):
        setattr(row, name, data.get(name))
    db.session.flush()
    record_audit(user, "plan.schedule_changed", "plan", row.plan_id, {"row": row.id})
    return row


def remove_scheduled_visit(user, row: ScheduledVisit) -> None:
    plan = row.plan
    _require_editable(user, plan)
    plan.schedule.remove(row)
    db.session.flush()
    record_audit(user, "plan.schedule_removed", "plan", plan.id, {"row": row.id})


# ---- notes and attachments --------------------------------------------------------------------

def add_plan_note(user, plan: Plan, data: dict, files=()) -> PlanNote:
    """A supporting note from 收集信息 (gather) or 分析评估 (analyse), with attachments."""
    if not (plan.author_id == user.id or user.role in ("manager", "admin")):
        raise PlanPermissionError(_("Only the plan's author or management can add notes."))
    if plan.status == "closed":
        raise PlanError(_("A closed plan takes no more notes."))
    note = PlanNote(plan_id=plan.id, kind=data["kind"], body=data["body"], author_id=user.id)
    db.session.add(note)
    db.session.flush()
    for upload in files:
        if not upload or not upload.filename:
            continue
        name = PurePath(upload.filename.replace("\\", "/")).name[:255] or "file"
        ext = PurePath(name).suffix.lower()
        if ext not in ATTACHMENT_TYPES:
            raise PlanError(_("Attach PDF, image, Excel, Word, CSV or text files only."),
                            {"files": [_("This type of file is not accepted.")]}, 400)
        data_bytes = upload.read(MAX_ATTACHMENT_BYTES + 1)
        if len(data_bytes) > MAX_ATTACHMENT_BYTES:
            raise PlanError(_("Each attachment may be at most 20 MB."), {"files": [_("The file is too large.")]}, 400)
        try:
            sha, content_type = _store_attachment(data_bytes, ATTACHMENT_TYPES[ext], user)
        except PhotoRejected as e:
            raise PlanError(rejection_message(e.code), {"files": [rejection_message(e.code)]}, e.status) from None
        except StorageError as e:
            status, code = storage_failure(e)
            raise PlanError(rejection_message(code), {"files": [rejection_message(code)]}, status) from None
        db.session.add(Attachment(note_id=note.id, filename=name, sha256=sha, content_type=content_type,
                                  size=len(data_bytes), uploaded_by=user.id))
    db.session.flush()
    record_audit(user, "plan.note_added", "plan", plan.id, {"note": note.id, "kind": note.kind})
    return note


def _store_attachment(data: bytes, content_type: str, user) -> tuple[str, str]:
    """Store an attachment's bytes; returns (sha256, content type). An image goes through the one
    photo ingest path (pixel cap, HEIC, renditions without metadata); other files are kept as they are."""
    if content_type.startswith("image/"):
        upload = store_upload(data)
        photo, _created = record_upload(upload, user)
        return upload.sha256, photo.content_type
    sha = hashlib.sha256(data).hexdigest()
    store = get_store()
    if not store.exists(sha):
        store.put(sha, data)
    return sha, content_type


# ---- workflow ---------------------------------------------------------------------------------

def transition_plan(user, plan: Plan, to: str, comment: str | None = None) -> Plan:
    """The one way a plan changes status: checked against PLAN_TRANSITIONS and the roles allowed."""
    if to not in PLAN_TRANSITIONS.get(plan.status, ()):
        raise PlanError(_("A plan that is {current} cannot become {target}.").format(
            current=_status_word(plan.status), target=_status_word(to)))
    if not may_transition(user, plan, to):
        if to in ("approved", "returned"):
            raise PlanPermissionError(_("Only management can approve or return a plan."))
        raise PlanPermissionError(_("You may not do that with this plan."))
    if to in ("submitted", "approved", "published") and not has_visits(plan):
        raise PlanError(_("This plan schedules no visits: add at least one visit to its schedule (or, for an "
                          "annual or quarterly plan, a sub-plan with visits) before it is submitted, approved "
                          "or published."))
    comment = (comment or "").strip() or None
    if to == "returned" and not comment:
        raise PlanError(_("Say what must change before returning the plan."),
                        {"comment": [_("This field is required.")]}, 400)
    now = utcnow()
    before = plan.status
    if to == "submitted":
        plan.submitted_at = now
    elif to in ("approved", "returned"):
        plan.reviewer_id = user.id
        plan.review_comment = comment
        if to == "approved":
            plan.approved_at = now
    elif to == "published":
        _publish(plan)
        plan.published_at = now
    elif to == "closed":
        plan.closed_at = now
    plan.status = to
    db.session.flush()
    record_audit(user, f"plan.{to}", "plan", plan.id, {"from": before, "to": to, "comment": comment})
    return plan


def has_visits(plan: Plan) -> bool:
    """Does the plan lead to visits: its own schedule, or (an annual or quarterly plan that frames
    others) a live sub-plan that schedules some? A plan without any would promise phones nothing."""
    if plan.schedule or any(v.deleted_at is None for v in plan.visits):
        return True
    children = db.session.scalars(select(Plan).where(Plan.parent_id == plan.id, Plan.deleted_at.is_(None))).all()
    return any(has_visits(child) for child in children)


def _status_word(code: str) -> str:
    from webapp.i18n import term

    return term("plan_status", code)


def current_revision(template: ChecklistTemplate) -> ChecklistTemplate:
    return db.session.scalar(select(ChecklistTemplate).where(
        ChecklistTemplate.code == template.code, ChecklistTemplate.is_current.is_(True),
        ChecklistTemplate.deleted_at.is_(None))) or template


def _publish(plan: Plan) -> list[Visit]:
    """Create the Visit rows of the schedule. Only now do they enter the change feed and so reach the
    assigned supervisors' phones at their next pull."""
    created = []
    for row in plan.schedule:
        if row.visit_ids:
            continue
        template = current_revision(row.template)
        ids = []
        for supervisor_id in row.supervisor_ids:
            visit = Visit(site_id=row.site_id, department_id=row.site.department_id, template_id=template.id,
                          plan_id=plan.id, supervisor_id=supervisor_id, status="scheduled",
                          scheduled_for=row.window_start, due_by=row.window_end,
                          preparation_notes=row.note, preparation_done=[])
            db.session.add(visit)
            db.session.flush()
            ids.append(visit.id)
            created.append(visit)
        row.visit_ids = ids
    return created
