"""An approved report is a frozen document (docs/review.md#the-frozen-report). At approval
everything the report shows — its text, scores, the visit's site and supervisor, each problem with
its severity, status, description, photos and evidence lines — is stored as JSON with the SHA-256 of
its canonical form, the version number and who approved it when. The approved page, its PDF and its
share link render only from that snapshot: a later change to a finding changes none of them; a new
approved version has its own snapshot and hash."""

import hashlib
import json

from flask_babel import force_locale
from sqlalchemy import select

from webapp.auth.models import User
from webapp.core.models import utcnow
from webapp.evidence.operations import evidence_lines
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.reports.models import Report, ReportSnapshot

LOCALES = ("zh_CN", "en")
SECTIONS = ("title", "plan_execution", "highlights", "problems", "analysis", "recommendations")


def report_findings(visit_id) -> list[Finding]:
    """The problems a report lists: the visit's findings, except those rejected or merged in review."""
    return list(db.session.scalars(select(Finding).where(
        Finding.visit_id == visit_id, Finding.deleted_at.is_(None),
        Finding.review_status.in_(("pending", "confirmed"))).order_by(Finding.captured_at, Finding.id)))


def _finding_doc(f: Finding, with_evidence: bool) -> dict:
    doc = {"id": f.id, "title": f.title, "severity": f.severity, "status": f.status,
           "review_status": f.review_status, "description": f.description, "impact": f.impact, "area": f.area,
           "photos": sorted(f.photos or [])}
    if with_evidence:
        evidence = {}
        for loc in LOCALES:
            with force_locale(loc):
                evidence[loc] = evidence_lines(f)
        doc["evidence"] = evidence
    return doc


def build_document(report: Report, findings=None, *, with_evidence=True) -> dict:
    """What the report shows now, as plain data (the live view of a draft; frozen at approval)."""
    visit = report.visit
    findings = report_findings(report.visit_id) if findings is None else findings
    approver = db.session.get(User, report.reviewer_id) if report.reviewer_id else None
    return {
        **{name: getattr(report, name) for name in SECTIONS},
        "version_no": report.version_no,
        "area_scores": dict(report.area_scores or {}),
        "visit_id": visit.id,
        "site": {"name": visit.site.name, "name_en": visit.site.name_en},
        "supervisor": visit.supervisor.display_name if visit.supervisor else None,
        "approved_by": approver.display_name if approver else None,
        "approved_at": report.approved_at.isoformat() if report.approved_at else None,
        "findings": [_finding_doc(f, with_evidence) for f in findings],
    }


def canonical(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def document_hash(data: dict) -> str:
    return hashlib.sha256(canonical(data)).hexdigest()


def freeze_report(report: Report, user) -> ReportSnapshot:
    """Store the approved version's snapshot (called by the approval, in its transaction)."""
    report.approved_at = report.approved_at or utcnow()
    report.reviewer_id = report.reviewer_id or user.id
    data = build_document(report)
    snap = ReportSnapshot(report_id=report.id, version_no=report.version_no, data=data, sha256=document_hash(data),
                          approved_by=user.id, approved_at=report.approved_at)
    db.session.add(snap)
    db.session.flush()
    return snap


def snapshot_of(report: Report) -> ReportSnapshot | None:
    return db.session.scalar(select(ReportSnapshot).where(ReportSnapshot.report_id == report.id))


def snapshots_of_visit(visit_id) -> dict:
    """{report id: snapshot} of every approved version of a visit's report."""
    return {s.report_id: s for s in db.session.scalars(
        select(ReportSnapshot).join(Report, Report.id == ReportSnapshot.report_id).where(Report.visit_id == visit_id))}


def document_for(report: Report) -> tuple[dict, ReportSnapshot | None]:
    """(document, snapshot): the frozen snapshot of a locked report, else the live document."""
    snap = snapshot_of(report) if report.locked else None
    if snap is not None:
        return snap.data, snap
    return build_document(report), None
