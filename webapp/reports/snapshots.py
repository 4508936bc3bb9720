"""An approved report is a frozen document (docs/review.md#the-frozen-report). At approval
everything the report shows — its text, scores, the visit's site and supervisor, each problem with
its severity, status, description, photos, the markup drawn on them, its after-rectification photos
and acceptance signatures, its evidence lines, the visit's meeting signatures and the watermark band
of every photo — is stored as JSON with the SHA-256 of its canonical form, the version number and who
approved it when. The approved page, its PDF and its share link render only from that snapshot (its
photos too: `frozen_rendition` draws the frozen markup and band on the stored renditions): a later
change to a finding, its markup or its rectification changes none of them; a new approved version has
its own snapshot and hash."""

import hashlib
import json

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from webapp.auth.models import User
from webapp.core.models import utcnow
from webapp.evidence.markup import marked_jpeg, markup_for
from webapp.evidence.operations import evidence_lines, rectification_photos
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.photos.models import Photo
from webapp.photos.operations import variant_key
from webapp.photos.storage import ObjectMissing, StorageError, get_store
from webapp.reports.models import Report, ReportSnapshot

LOCALES = ("zh_CN", "en")
SECTIONS = ("title", "plan_execution", "highlights", "problems", "analysis", "recommendations")


def report_findings(visit_id) -> list[Finding]:
    """The problems a report lists: the visit's findings, except those rejected or merged in review."""
    return list(db.session.scalars(select(Finding).where(
        Finding.visit_id == visit_id, Finding.standing()).order_by(Finding.captured_at, Finding.id)))


def acceptance_signatures(finding_id) -> list[dict]:
    """The signatures of a finding's acceptance rounds, oldest first (webapp/evidence/markup.py)."""
    from webapp.rectification.models import AcceptanceRound, Rectification

    return [r.signature for r in db.session.scalars(select(AcceptanceRound).join(
        Rectification, Rectification.id == AcceptanceRound.rectification_id).where(
        Rectification.finding_id == finding_id).order_by(AcceptanceRound.id)) if r.signature]


def _finding_doc(f: Finding, with_evidence: bool) -> dict:
    photos = sorted(f.photos or [])
    doc = {"id": f.id, "title": f.title, "severity": f.severity, "status": f.status,
           "review_status": f.review_status, "description": f.description, "impact": f.impact, "area": f.area,
           "photos": photos,
           # the markup as drawn on each photo, the rectification's "after" photos, the acceptance signatures
           "markup": {sha: shapes for sha in photos if (shapes := markup_for(f, sha))},
           "after_photos": rectification_photos(f.id),
           "acceptance_signatures": acceptance_signatures(f.id)}
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
    finding_docs = [_finding_doc(f, with_evidence) for f in findings]
    return {
        **{name: getattr(report, name) for name in SECTIONS},
        "version_no": report.version_no,
        "area_scores": dict(report.area_scores or {}),
        "visit_id": visit.id,
        "site": {"name": visit.site.name, "name_en": visit.site.name_en},
        "supervisor": visit.supervisor.display_name if visit.supervisor else None,
        "approved_by": approver.display_name if approver else None,
        "approved_at": report.approved_at.isoformat() if report.approved_at else None,
        "findings": finding_docs,
        "signatures": {"opening": visit.opening_signature or None, "closing": visit.closing_signature or None},
    }


def watermark_bands(finding_docs) -> dict:
    """{sha: the watermark band's lines} of every photo the document shows that has a record yet
    (webapp/evidence/watermark.py): the band is frozen with the markup."""
    from webapp.evidence.watermark import watermark_context, watermark_lines

    shas = sorted({s for f in finding_docs for s in f["photos"] + f["after_photos"]})
    if not shas:
        return {}
    bands = {}
    for photo in db.session.scalars(select(Photo).where(Photo.sha256.in_(shas))):
        ctx = watermark_context(photo)
        if ctx is not None:
            bands[photo.sha256] = watermark_lines(ctx)
    return bands


def live_photos(visit_id) -> set[str]:
    """Every photo a draft report shows: its findings' own and their after-rectification photos."""
    return {s for f in report_findings(visit_id) for s in (f.photos or []) + rectification_photos(f.id)}


def document_photos(doc: dict) -> set[str]:
    """Every photo a document shows: the findings' own and their after-rectification photos."""
    return {s for f in doc.get("findings") or [] for s in (f.get("photos") or []) + (f.get("after_photos") or [])}


def frozen_shapes(doc: dict, sha: str) -> list[dict]:
    """The markup the document shows on a photo (the first finding that marked it up)."""
    for f in doc.get("findings") or []:
        shapes = (f.get("markup") or {}).get(sha)
        if shapes:
            return shapes
    return []


def frozen_rendition(doc: dict, sha: str, variant: str) -> tuple[bytes, str]:
    """(JPEG, etag) of a photo as the frozen document shows it: the stored thumbnail or display
    rendition with the document's markup drawn on it (and, on the display rendition, the frozen
    watermark band). Cached in the photo store under a key whose digest covers what is drawn.
    Raises ObjectMissing when the rendition is not stored, StorageError when the store fails."""
    from webapp.evidence.watermark import draw_watermark

    shapes = frozen_shapes(doc, sha)
    band = (doc.get("bands") or {}).get(sha) if variant == "display" else None
    store = get_store()
    base = store.get(variant_key(sha, variant))
    if not shapes and not band:
        return base, f"{sha}.{variant}"
    digest = hashlib.sha256(canonical({"v": variant, "shapes": shapes, "band": band})).hexdigest()[:12]
    key = f"{sha}.fz-{digest}.jpg"
    try:
        return store.get(key), f"{sha}.fz-{digest}"
    except ObjectMissing:
        pass
    blob = draw_watermark(base, band, shapes) if band else marked_jpeg(base, shapes, quality=85)
    try:
        store.put(key, blob)
    except StorageError as e:  # served anyway; made again next time
        current_app.logger.warning("photo storage: could not cache %s: %s", key, e)
    return blob, f"{sha}.fz-{digest}"


def canonical(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def document_hash(data: dict) -> str:
    return hashlib.sha256(canonical(data)).hexdigest()


def freeze_report(report: Report, user) -> ReportSnapshot:
    """Store the approved version's snapshot (called by the approval, in its transaction)."""
    report.approved_at = report.approved_at or utcnow()
    report.reviewer_id = report.reviewer_id or user.id
    data = build_document(report)
    data["bands"] = watermark_bands(data["findings"])
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
