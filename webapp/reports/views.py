import io
import re

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp.auth.reauth import recent_password_required
from webapp.authz import get_scoped_or_404, scoped
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.findings.operations import NotAllowed, WorkflowError
from webapp.rectification.schemas import form_data
from webapp.reports import operations as ops
from webapp.reports import snapshots
from webapp.reports.models import REPORT_STATUSES, CommunicationNote, Report, ShareLink
from webapp.reports.pdf import DEPARTMENT_VISIBLE
from webapp.reports.schemas import CommunicationNoteArgs, NewReportArgs, ReportEditArgs, ReviewArgs, ShareArgs
from webapp.visits.models import Visit

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _department_side(user) -> bool:
    return user.role in ("dept_head", "staff")


def _get_report(report_id):
    report = get_scoped_or_404(Report, report_id, current_user)
    if _department_side(current_user) and report.status not in DEPARTMENT_VISIBLE:
        abort(404)
    return report


@bp.get("/")
@login_required
def index():
    status = request.args.get("status")
    latest = (select(Report.visit_id, func.max(Report.version_no).label("v")).group_by(Report.visit_id).subquery())
    q = (scoped(Report, current_user)
         .join(latest, (latest.c.visit_id == Report.visit_id) & (latest.c.v == Report.version_no))
         .options(selectinload(Report.visit).selectinload(Visit.site)))
    if status in REPORT_STATUSES:
        q = q.where(Report.status == status)
    if _department_side(current_user):
        q = q.where(Report.status.in_(DEPARTMENT_VISIBLE))
    reports = db.session.scalars(q.order_by(Report.updated_at.desc()).limit(300)).all()
    to_write = []
    if current_user.role in ("supervisor", "manager", "admin"):
        to_write = db.session.scalars(
            scoped(Visit, current_user).where(Visit.deleted_at.is_(None), Visit.status == "completed",
                                              ~Visit.id.in_(select(Report.visit_id)))
            .options(selectinload(Visit.site)).order_by(Visit.scheduled_for.desc()).limit(100)).all()
        to_write = [v for v in to_write if ops.can_write(current_user, v)]
    return render_template("reports/index.html", reports=reports, to_write=to_write, status=status,
                           statuses=REPORT_STATUSES)


@bp.post("/new")
@login_required
def new():
    try:
        args = NewReportArgs().load(request.form)
    except ValidationError:
        abort(400)
    visit = get_scoped_or_404(Visit, args["visit_id"], current_user)
    try:
        report = ops.create_report(visit, current_user)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except WorkflowError as e:
        db.session.rollback()
        flash(str(e), "error")
        existing = ops.latest_report(visit.id)
        return redirect(url_for(".detail", report_id=existing.id) if existing else url_for(".index"), 303)
    db.session.commit()
    return redirect(url_for(".detail", report_id=report.id), 303)


def _context(report):
    """The report's document — its frozen snapshot once approved (webapp/reports/snapshots.py), else
    the live one — and the list of its versions with their hashes."""
    visit = report.visit
    doc, snap = snapshots.document_for(report)
    live = {} if snap else {f.id: f for f in snapshots.report_findings(visit.id)}
    versions = db.session.scalars(select(Report).where(Report.visit_id == visit.id)
                                  .order_by(Report.version_no.desc())).all()
    return dict(report=report, visit=visit, doc=doc, snap=snap, live=live, versions=versions,
                version_snaps=snapshots.snapshots_of_visit(visit.id), latest=versions[0] if versions else report)


def _photo_base(report, snap) -> str | None:
    """Where the page's photos come from: a frozen report's own route (its markup as approved)."""
    return url_for(".photo", report_id=report.id, sha256="x")[:-1] if snap is not None else None


def _render(report, errors=None, form=None, status=200, new_token=None):
    visit = report.visit
    notes = db.session.scalars(select(CommunicationNote).where(CommunicationNote.visit_id == visit.id)
                               .order_by(CommunicationNote.held_on)).all()
    links = db.session.scalars(select(ShareLink).where(ShareLink.report_id == report.id)
                               .order_by(ShareLink.id.desc())).all()
    can_write = ops.can_write(current_user, visit)
    ctx = _context(report)
    return render_template(
        "reports/detail.html", **ctx, photo_base=_photo_base(report, ctx["snap"]), notes=notes, links=links, errors=errors or {}, form=form or {},
        can_write=can_write, editable=can_write and report.status in ("draft", "returned"),
        is_manager=current_user.role in ("manager", "admin"),
        is_head=current_user.role == "dept_head" and current_user.department_id == visit.department_id,
        new_token=new_token, now=utcnow(), share_default_days=current_app.config["SHARE_LINK_DEFAULT_DAYS"],
        share_day_choices=ops.share_day_choices()), status


@bp.get("/<report_id>")
@login_required
def detail(report_id):
    report = _get_report(report_id)
    return _render(report, new_token=session.pop(f"share-token-{report.id}", None))


def _act(report_id, schema, action, message):
    report = _get_report(report_id)
    try:
        args = schema.load(form_data(request.form)) if schema is not None else {}
        result = action(report, args)
    except ValidationError as e:
        db.session.rollback()
        return _render(report, {k: "; ".join(v) if isinstance(v, list) else str(v) for k, v in e.messages.items()},
                       request.form, 400)
    except WorkflowError as e:
        db.session.rollback()
        return _render(report, {"_": str(e)}, request.form, 409)
    except NotAllowed as e:
        db.session.rollback()
        return _render(report, {"_": str(e)}, request.form, 403)
    db.session.commit()
    flash(message, "info")
    target = result.id if isinstance(result, Report) else report.id
    return redirect(url_for(".detail", report_id=target), 303)


@bp.post("/<report_id>/edit")
@login_required
def edit(report_id):
    return _act(report_id, ReportEditArgs(), lambda r, a: ops.update_report(r, current_user, a), _("Report saved."))


@bp.post("/<report_id>/submit")
@login_required
def submit(report_id):
    return _act(report_id, None, lambda r, a: ops.submit_report(r, current_user), _("Report submitted for approval."))


@bp.post("/<report_id>/approve")
@login_required
@recent_password_required
def approve(report_id):
    return _act(report_id, ReviewArgs(), lambda r, a: ops.review_report(r, current_user, "approve", a.get("comment")),
                _("Report approved."))


@bp.post("/<report_id>/return")
@login_required
def return_(report_id):
    return _act(report_id, ReviewArgs(), lambda r, a: ops.review_report(r, current_user, "return", a.get("comment")),
                _("Report returned to its author."))


@bp.post("/<report_id>/communicate")
@login_required
def communicate(report_id):
    return _act(report_id, None, lambda r, a: ops.communicate_report(r, current_user),
                _("Report communicated to the department."))


@bp.post("/<report_id>/acknowledge")
@login_required
def acknowledge(report_id):
    return _act(report_id, None, lambda r, a: ops.acknowledge_report(r, current_user), _("Report acknowledged."))


@bp.post("/<report_id>/new-version")
@login_required
def new_version(report_id):
    return _act(report_id, None, lambda r, a: ops.new_version(r, current_user), _("A new draft version was made."))


@bp.post("/<report_id>/notes")
@login_required
def add_note(report_id):
    def action(r, a):
        attendees = [p for p in re.split(r"[,,、;\n]", a.pop("attendees") or "") if p.strip()]
        ops.add_communication_note(r.visit, current_user, attendees=attendees, **a)

    return _act(report_id, CommunicationNoteArgs(), action, _("Communication note saved."))


@bp.post("/<report_id>/share")
@login_required
def share(report_id):
    def action(r, a):
        session[f"share-token-{r.id}"] = ops.create_share_link(r, current_user, a["expires_in_days"])

    return _act(report_id, ShareArgs(), action, _("Share link created. Copy it now: it is shown only once."))


@bp.post("/<report_id>/share/<int:link_id>/revoke")
@login_required
def revoke(report_id, link_id):
    def action(r, a):
        link = db.session.get(ShareLink, link_id)
        if link is None or link.report_id != r.id:
            abort(404)
        ops.revoke_share_link(link, current_user)

    return _act(report_id, None, action, _("Share link revoked."))


@bp.get("/shared/<token>")
def shared(token):
    report = ops.report_by_token(token)
    if report is None:
        abort(404)
    resp = make_response(render_template("reports/shared.html", **_context(report),
                                         photo_base=url_for(".shared_photo", token=token, sha256="x")[:-1]))
    return _no_store(resp)


def _no_store(resp):
    """A shared report must not outlive its link in a browser's or a proxy's cache."""
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/shared/<token>/photos/<sha256>")
def shared_photo(token, sha256):
    """The evidence photos of a shared report, for whoever holds its link (thumb and display only:
    originals stay with management)."""
    report = ops.report_by_token(token)
    if report is None:
        abort(404)
    return _no_store(_report_photo(report, sha256))


@bp.get("/<report_id>/photos/<sha256>")
@login_required
def photo(report_id, sha256):
    """A photo of an approved report as it was approved (its frozen markup and band); the page of a
    draft shows the live photos (/api/v1/photos)."""
    return _report_photo(_get_report(report_id), sha256)


def _report_photo(report, sha256):
    """One of the report's photos (a finding's or its after-rectification photo), thumb or display:
    drawn from the frozen snapshot once approved (webapp/reports/snapshots.py), else live."""
    from webapp.api.photos import photo_response
    from webapp.photos.operations import find_stored_photo
    from webapp.photos.storage import ObjectMissing, StorageError

    variant = request.args.get("variant", "thumb")
    sha = sha256.lower()
    if variant not in ("thumb", "display"):
        abort(404)
    snap = snapshots.snapshot_of(report) if report.locked else None
    if snap is not None:
        if sha not in snapshots.document_photos(snap.data) or find_stored_photo(sha) is None:
            abort(404)
        try:
            blob, etag = snapshots.frozen_rendition(snap.data, sha, variant)
        except ObjectMissing:
            abort(404)
        except StorageError:
            abort(503)
        headers = {"ETag": f'"{etag}"', "Cache-Control": "private, no-cache"}
        if request.if_none_match.contains(etag):
            return Response(status=304, headers=headers)
        resp = Response(blob, mimetype="image/jpeg")
        resp.headers.update(headers)
        return resp
    if sha not in snapshots.live_photos(report.visit_id):
        abort(404)
    photo = find_stored_photo(sha)
    if photo is None:
        abort(404)
    return photo_response(photo, variant)


@bp.get("/<report_id>/report.pdf")
@login_required
def pdf(report_id):
    """The direct download (scripts); the page's button makes an export job with the same builder."""
    from webapp.core.exports import ExportError
    from webapp.reports.pdf import report_export

    report = _get_report(report_id)
    try:
        made = report_export(current_user, {"report_id": report.id})
    except ExportError:
        flash(_("The PDF needs a Chinese font on the server (Debian package fonts-noto-cjk)."), "error")
        return redirect(url_for(".detail", report_id=report.id))
    return send_file(io.BytesIO(made.data), mimetype=made.mimetype, as_attachment=True, download_name=made.filename)
