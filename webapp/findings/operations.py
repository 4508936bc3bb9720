"""Finding use cases: the status transition, comments, bulk assignment."""

from flask_babel import gettext as _

from webapp.audit.operations import record_audit
from webapp.core.workflow import move_status
from webapp.extensions import db
from webapp.findings.models import FINDING_TRANSITIONS, Finding, FindingComment
from webapp.i18n import term
from webapp.org.operations import is_site_person


class WorkflowError(Exception):
    """A transition that is not allowed from the current state (409)."""


class NotAllowed(Exception):
    """The user may see the record but not do this to it (403)."""


class AssignError(Exception):
    """A responsible person who is not one of the finding's site's people (the message says so)."""


def transition_finding(finding: Finding, to: str, user, data: dict | None = None) -> None:
    """The one way a finding's status changes: checked against FINDING_TRANSITIONS and audited."""
    move_status(finding, to, FINDING_TRANSITIONS, user=user, entity="finding", data=data,
                illegal=lambda: WorkflowError(_("A finding cannot go from “%(a)s” to “%(b)s”.",
                                                a=term("finding_status", finding.status),
                                                b=term("finding_status", to))))


def add_comment(finding: Finding, user, body: str) -> FindingComment:
    comment = FindingComment(finding_id=finding.id, author_id=user.id, body=body)
    db.session.add(comment)
    db.session.flush()
    return comment


def can_assign(user) -> bool:
    return user.role in ("manager", "admin", "supervisor")


def assign_findings(findings: list[Finding], user, department_id: str | None, person: str | None) -> int:
    """Set the responsible department and/or person on findings the user may see (already scoped)."""
    if not can_assign(user):
        raise NotAllowed(_("Only supervisors and managers assign responsibility."))
    if person:
        # The same rule as a phone's push (webapp/sync_store/policy.py): one of the site's people.
        for f in findings:
            if f.status != "closed" and not is_site_person(f.site, department_id or f.department_id, person):
                raise AssignError(_("Choose the responsible person from the site's people."))
    changed = 0
    for f in findings:
        if f.status == "closed":
            continue
        before = {"department_id": f.department_id, "responsible_person": f.responsible_person}
        if department_id:
            f.department_id = department_id
        if person is not None:
            f.responsible_person = person or None
        after = {"department_id": f.department_id, "responsible_person": f.responsible_person}
        if after != before:
            record_audit(user, "finding.assign", "finding", f.id, {"from": before, "to": after})
            changed += 1
    db.session.flush()
    return changed


def findings_by_ids(query, ids) -> list[Finding]:
    return list(db.session.scalars(query.where(Finding.id.in_(list(ids)))))

