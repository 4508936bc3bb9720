"""What the application decides for the sync engine: who may push what, validation, fields the
server derives, transition tables, pull scope, photo existence. See sync/engine.py Policy."""

from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import selectinload

from sync.engine import Rejection, SyncEngine
from sync.engine import Store as EngineStore
from sync.sql import among
from webapp.authz import can, scope_clause
from webapp.checklists.models import ChecklistTemplate, TemplateItem
from webapp.evidence.operations import place_checkin
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.findings.operations import NotAllowed, WorkflowError
from webapp.org.models import Department, Site
from webapp.org.operations import is_site_person
from webapp.photos.models import Photo
from webapp.plans.models import Plan
from webapp.rectification.models import RectificationUpdate
from webapp.rectification.operations import (
    check_progress,
    check_submission,
    record_progress_audit,
    rectification_for,
    submit_for_acceptance,
)
from webapp.sync_store.entities import ENTITIES, HELD, REFERENCE, lookup, serialize, wire_columns, wire_row
from webapp.sync_store.models import AppliedMutation, Change, Conflict, Revision
from webapp.sync_store.phone_scope import window_clause
from webapp.sync_store.schemas import validate_data
from webapp.sync_store.scope_moves import SCOPE_EXIT, exit_clause, exit_markers
from webapp.sync_store.tracking import clear_sync_context, lock_device, mark_current, set_sync_context
from webapp.visits.completion import CompletionError, answered_item_ids, check_completion, previous_results
from webapp.visits.models import VISIT_TRANSITIONS, Visit

# Fields the server derives: a device's value for them is never taken (see docs/sync-protocol.md).
SERVER_FIELDS = {"visit": ("department_id",),
                 "finding": ("site_id", "supervisor_id", "has_conflict", "review_status", "review_reason",
                             "merged_into_id"),
                 "rectification_update": ("author_id",), "visit_checkin": ("distance_m", "in_fence")}
PARENT_KEYS = {"meeting": "visit_id", "checklist_answer": "visit_id", "metric": "visit_id", "interview": "visit_id",
               "finding": "visit_id", "rectification_update": "finding_id",
               "visit_checkin": "visit_id"}
REFERENCES = {  # field → model it must name (existence is checked, not left to the FK)
    "site_id": Site, "template_id": ChecklistTemplate, "plan_id": Plan, "item_id": TemplateItem,
    "department_id": Department, "visit_id": Visit, "finding_id": Finding,
}


class ResolutionError(Exception):
    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


def stringify(errors):
    """marshmallow messages (lazy strings, nested dicts/lists) as plain JSON."""
    if isinstance(errors, dict):
        return {str(k): stringify(v) if isinstance(v, dict | list | tuple) else [str(v)] for k, v in errors.items()}
    if isinstance(errors, list | tuple):
        return [stringify(v) for v in errors]
    return str(errors)


class WebappPolicy:
    exit_entity = SCOPE_EXIT

    def message(self, key: str) -> str:
        return {
            "entity": lambda: _("This kind of record cannot be sent from a device."),
            "unknown_record": lambda: _("No such record, or not yours to change."),
            "future_version": lambda: _("The device claims a version the server never had."),
            "illegal_transition": lambda: _("This status change is not allowed from the record's current status."),
            "blocked": lambda: _("Not applied: an earlier change to the same record in this batch was rejected."),
            "integrity": lambda: _("The record clashes with one already stored (for example a second answer to "
                                   "the same checklist item)."),
            "boolean": lambda: _("Choose true or false."),
            "forbidden": lambda: _("You may not change this record."),
            "fixed": lambda: _("This field cannot be changed once the record exists."),
            "not_found": lambda: _("No such record."),
            "not_yours": lambda: _("A supervisor records visits only for themselves."),
            "no_push": lambda: _("Your account reads records; it cannot send any from a device."),
            "status_workflow": lambda: _("A finding's status changes only through rectification and acceptance: "
                                         "the department head submits a plan and progress, the supervisor accepts."),
            "merged": lambda: _("This finding was merged into another in review; record on that one."),
            "reassign": lambda: _("Only management reassigns a visit to another supervisor."),
            "read_only": lambda: _("This field is set by the server and cannot be changed from a device."),
            "unknown_option": lambda: _("This option is not one of the checklist item's options."),
            "reason_required": lambda: _("You are outside the site's geofence: say why you check in or out here."),
            "not_site_person": lambda: _("Choose the responsible person from the site's people."),
            "mutation_id_reused": lambda: _("This mutation id has already been used for another change. "
                                            "Send the change again with a new mutation id."),
        }[key]()

    # -- validation and derived fields --

    def validate(self, spec, data: dict, *, creating: bool) -> dict:
        try:
            return validate_data(spec.name, data, creating=creating)
        except ValidationError as e:
            raise Rejection(stringify(e.messages)) from None

    def derive(self, user, spec, obj, *, creating: bool) -> None:
        session = db.session
        if spec.name == "visit":
            if creating and obj.supervisor_id is None:
                obj.supervisor_id = user.id
            if obj.site_id:
                site = lookup(session, Site, obj.site_id)
                if site is not None:
                    obj.department_id = site.department_id
        elif spec.name == "finding":
            visit = lookup(session, Visit, obj.visit_id)
            if visit is not None:
                obj.site_id, obj.supervisor_id = visit.site_id, visit.supervisor_id
                if creating and obj.department_id is None:
                    obj.department_id = visit.department_id
            if creating:
                obj.review_status = "pending"  # a synced finding awaits management's review
        elif spec.name == "rectification_update" and creating:
            obj.author_id = user.id
        elif spec.name == "visit_checkin":
            visit = lookup(session, Visit, obj.visit_id)
            site = lookup(session, Site, visit.site_id) if visit is not None else None
            place_checkin(obj, site)

    # -- permissions --

    def _check_refs(self, values: dict) -> None:
        errors = {}
        for name, value in values.items():
            model = REFERENCES.get(name)
            if model is not None and value is not None:
                found = lookup(db.session, model, value)
                if found is None or getattr(found, "deleted_at", None) is not None:
                    errors[name] = [self.message("not_found")]
        if errors:
            raise Rejection(errors)

    def _visit(self, obj):
        return lookup(db.session, Visit, getattr(obj, "visit_id", None))

    def _may_touch(self, user, spec, obj, *, creating: bool) -> bool:
        """Whether `user` may change `obj` (as it stands: for a create, with its parent set). The
        rules are the authorization module's (webapp/authz.py), asked with the records held by
        this push."""
        if spec.name == "visit":
            return can(user, "visit.create", obj) if creating else can(user, "visit.record", obj)
        if spec.name == "rectification_update":
            finding = lookup(db.session, Finding, obj.finding_id)
            return can(user, "rectification.manage", finding)
        return can(user, "visit.record", self._visit(obj))

    def read_only(self, user, spec, name: str) -> str | None:
        """The message key if `name` is not the device's to change (for this user), else None."""
        if spec.name == "finding" and name == "status":
            return "status_workflow"
        if spec.name == "rectification_update" and name == "submit":
            return "fixed"  # a request for acceptance is made once, with the report that creates it
        if name in SERVER_FIELDS.get(spec.name, ()):
            return "read_only"
        if spec.name == "visit" and name == "supervisor_id" and not can(user, "visit.reassign"):
            return "reassign"
        return None

    def authorize(self, user, spec, obj, values: dict, *, creating: bool, deleting: bool) -> None:
        if not can(user, "device.push"):
            raise Rejection({"id": [self.message("no_push")]})
        if creating:
            self._check_refs(values)
            if spec.name == "visit" and obj.supervisor_id != user.id and not can(user, "visit.reassign"):
                raise Rejection({"supervisor_id": [self.message("not_yours")]})
            if spec.name == "finding" and values.get("status", "open") != "open":
                raise Rejection({"status": [self.message("status_workflow")]})
            if spec.name == "rectification_update":
                self._check_progress(user, obj)
            elif not self._may_touch(user, spec, obj, creating=True):
                raise Rejection({"id": [self.message("forbidden")]})
            if spec.name == "visit_checkin":
                self._check_checkin(obj, values)
            self._check_rules(spec, obj, values, creating=True)
            if spec.name == "checklist_answer":
                self._check_answer(obj, values)
            return
        if spec.name == "rectification_update":
            finding = lookup(db.session, Finding, obj.finding_id)
            if finding is None or not can(user, "rectification.manage", finding) or obj.author_id != user.id:
                raise Rejection({"id": [self.message("unknown_record")]})
            self._check_progress(user, obj)
        elif not self._may_touch(user, spec, obj, creating=False):
            # Out of scope and missing look the same.
            raise Rejection({"id": [self.message("unknown_record")]})
        if spec.name == "finding" and obj.review_status == "merged":
            # The review's rule, as on the desk (webapp/findings/review.py): a merged finding is closed to edits.
            raise Rejection({"id": [self.message("merged")]})
        parent = PARENT_KEYS.get(spec.name)
        if parent and parent in values and values[parent] != getattr(obj, parent):
            raise Rejection({parent: [self.message("fixed")]})
        self._check_refs({k: v for k, v in values.items() if k != parent})
        if spec.name == "visit_checkin" and "reason" in values and obj.in_fence is False \
                and not (values["reason"] or "").strip():
            raise Rejection({"reason": [self.message("reason_required")]})
        if not deleting:
            self._check_rules(spec, obj, values, creating=False)
        if spec.name == "checklist_answer":
            self._check_answer(obj, values)

    def _check_rules(self, spec, obj, values: dict, *, creating: bool) -> None:
        """The desk's rules for what a push brings: completing a visit follows its template's rule
        on unanswered items (webapp/visits/completion.py, as complete_visit on the desk), and a
        finding's responsible person is one of the site's people (webapp/org/operations.py)."""
        if spec.name == "visit" and values.get("status") == "completed" and (creating or obj.status != "completed"):
            template = lookup(db.session, ChecklistTemplate, values.get("template_id", obj.template_id))
            reason = values["completion_reason"] if "completion_reason" in values else obj.completion_reason
            answered = {} if creating else answered_item_ids(db.session, obj)
            try:
                check_completion(template, answered, reason)
            except CompletionError as e:
                raise Rejection({"completion_reason": [str(e)]}) from None
        elif spec.name == "finding" and (values.get("responsible_person") or "").strip() \
                and (creating or values["responsible_person"] != obj.responsible_person):
            visit = self._visit(obj)
            site = lookup(db.session, Site, visit.site_id) if visit is not None else None
            department = values.get("department_id", obj.department_id)
            if not is_site_person(site, department, values["responsible_person"]):
                raise Rejection({"responsible_person": [self.message("not_site_person")]})

    def _check_answer(self, obj, values: dict) -> None:
        """A choice answer names one of its item's options (docs/checklists.md)."""
        if values.get("choice") is None:
            return
        item = lookup(db.session, TemplateItem, obj.item_id)
        if item is not None and values["choice"] not in {o.get("key") for o in item.options or []}:
            raise Rejection({"choice": [self.message("unknown_option")]})

    def _check_checkin(self, obj, values: dict) -> None:
        """A new check-in: the server's distance and fence are not the device's to say (a copy equal
        to the server's passes), and a position outside the fence needs a reason."""
        errors = {}
        for name in SERVER_FIELDS["visit_checkin"]:
            if name in values and values[name] is not None and values[name] != getattr(obj, name):
                errors[name] = [self.message("read_only")]
        if obj.in_fence is False and not (obj.reason or "").strip():
            errors["reason"] = [self.message("reason_required")]
        if errors:
            raise Rejection(errors)

    def _check_progress(self, user, obj) -> None:
        """A progress update from a phone follows the desk's rule (webapp/rectification/operations.py)."""
        finding = lookup(db.session, Finding, obj.finding_id)
        if finding is None:
            raise Rejection({"finding_id": [self.message("not_found")]})
        try:
            check_progress(finding, user)
            if getattr(obj, "submit", False):
                check_submission(finding, user)
        except (NotAllowed, WorkflowError) as e:
            raise Rejection({"finding_id": [str(e)]}) from None

    def applied(self, user, spec, obj, *, creating: bool) -> None:
        """What the desk's operation does beside writing the record (its audit entry)."""
        if spec.name == "rectification_update" and creating:
            finding = lookup(db.session, Finding, obj.finding_id)
            record_progress_audit(user, rectification_for(finding), obj)
            if obj.submit:
                # The desk's operation: the rectification and the finding move, the supervisor is
                # told, the webhook event is raised (checked in authorize, so it cannot refuse here).
                submit_for_acceptance(finding, user)

    # -- merge --

    def transitions(self, spec, field_name: str):
        if field_name != "status":
            return None
        return {"visit": VISIT_TRANSITIONS}.get(spec.name)

    def photo_fields(self, spec) -> tuple[str, ...]:
        return ("photos",) if "photos" in spec.set_fields else ()

    def missing_photos(self, hashes: set[str]) -> list[str]:
        have = set(db.session.scalars(select(Photo.sha256).where(Photo.sha256.in_(sorted(hashes)))))
        return sorted(hashes - have)

    # -- pull --

    def change_scope(self, user):
        """What `user` pulls, derived from the authorization module: a record's feed row while
        the user may see the record now, and the markers of records that left their scope."""
        if can(user, "records.all"):
            return Change.entity != SCOPE_EXIT
        parts = [Change.entity.in_(sorted(REFERENCE))]
        for name, spec in ENTITIES.items():
            if not spec.reference:
                parts.append(and_(Change.entity == name,
                                  Change.record_id.in_(select(spec.model.id).where(scope_clause(spec.model, user)))))
        return or_(*parts, exit_clause(user))

    def conflict_scope(self, user):
        if can(user, "records.all"):
            return true()
        return or_(false(), *(
            and_(Conflict.entity == name,
                 Conflict.record_id.in_(select(spec.model.id).where(scope_clause(spec.model, user))))
            for name, spec in ENTITIES.items() if not spec.reference))

    def exits(self, user, rows) -> list[dict]:
        """Deletion markers for the records of these scope exits that `user` may no longer see."""
        return exit_markers(db.session, user, [row.record_id for row in rows])

    def serialize(self, spec, obj) -> dict:
        return serialize(spec, obj)

    def wire_columns(self, spec) -> tuple:
        return wire_columns(spec)

    def wire_row(self, spec):
        return wire_row(spec)

    def pull_window(self, user):
        """The phone scope's window for a fresh phone of `user` (webapp/sync_store/phone_scope.py)."""
        return window_clause(user)

    def pull_extras(self, spec, objs: list) -> dict:
        """A visit's plan title (the phone's visit list searches it; plans are not pulled) and, for
        a visit not completed yet, the previous visit's results at its site (webapp/visits/completion.py)
        — except for the second visit of a blind double inspection, which must not see the first
        inspector's answers (webapp/results/calibration)."""
        if spec.name != "visit":
            return {}
        from webapp.results.calibration.models import CalibrationPair

        ids = [v.id for v in objs]
        blind = set(db.session.scalars(select(CalibrationPair.second_visit_id).where(
            CalibrationPair.second_visit_id.in_(ids)))) if ids else set()
        plan_ids = sorted({v.plan_id for v in objs if v.plan_id})
        titles = dict(db.session.execute(select(Plan.id, Plan.title).where(Plan.id.in_(plan_ids))).all()) \
            if plan_ids else {}
        out = {v.id: {"plan_title": titles[v.plan_id]} for v in objs if v.plan_id in titles}
        for visit_id, prev in previous_results(
                db.session, [v for v in objs if v.status != "completed" and v.deleted_at is None
                             and v.id not in blind]).items():
            out.setdefault(visit_id, {})["previous"] = prev
        return out

    def load_options(self, spec) -> list:
        if spec.name == "template":
            return [selectinload(ChecklistTemplate.items)]
        return []

    def scope_keys(self, spec, obj):
        return spec.scope_keys(obj)

    def set_context(self, session, *, record=None, **context) -> None:
        if record is not None:
            set_sync_context(session, record=record, **context)
        elif context:
            set_sync_context(session, **context)
        else:
            clear_sync_context(session)

    # -- look-ups held for one push --

    def prefetch(self, session, items: list) -> None:
        """One query per model for the parents and references a segment's checks look up."""
        wanted: dict[type, set] = {}
        for _spec, obj, values in items:
            refs = {name: value for name, value in values.items() if name in REFERENCES}
            if obj is not None:
                for name in ("visit_id", "finding_id", "site_id"):
                    if getattr(obj, name, None) is not None:
                        refs.setdefault(name, getattr(obj, name))
            for name, value in refs.items():
                if value is not None:
                    wanted.setdefault(REFERENCES[name], set()).add(value)
        held = session.info.setdefault(HELD, {})
        for model, ids in wanted.items():
            ids = sorted(pk for pk in ids if (model, pk) not in held)
            if not ids:
                continue
            found = {o.id: o for o in session.scalars(select(model).where(among(model.id, ids)))}
            for pk in ids:
                held[(model, pk)] = found.get(pk)

    def remember(self, session, obj) -> None:
        held = session.info.get(HELD)
        if held is not None:
            held[(type(obj), obj.id)] = obj

    def forget(self, session) -> None:
        session.info.pop(HELD, None)

    def resolution_error(self, errors: dict) -> Exception:
        return ResolutionError(stringify(errors))


STORE = EngineStore(change=Change, revision=Revision, mutation=AppliedMutation, conflict=Conflict,
                    lock_device=lock_device, mark_current=mark_current)
POLICY = WebappPolicy()


def make_engine(session=None) -> SyncEngine:
    # The session itself, not the scoped proxy: a push reaches it thousands of times.
    return SyncEngine(session or db.session(), ENTITIES, STORE, POLICY)


__all__ = ["make_engine", "ResolutionError", "RectificationUpdate", "POLICY", "STORE"]
