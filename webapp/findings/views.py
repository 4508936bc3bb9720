import functools
import io
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from marshmallow import ValidationError
from sqlalchemy import select

from webapp.auth.loaders import background
from webapp.auth.models import User
from webapp.authz import can, get_scoped_or_404, scoped
from webapp.checklists.models import ChecklistTemplate, TemplateItem
from webapp.core.views import is_htmx
from webapp.extensions import db
from webapp.findings import operations as ops
from webapp.findings import review as review_ops
from webapp.findings.export import export_params, findings_export
from webapp.findings.models import CORRECTABLE, SEVERITIES, Finding
from webapp.findings.schemas import (
    AssignArgs,
    CommentArgs,
    CorrectArgs,
    MergeArgs,
    ReviewArgs,
    list_args,
    queue_args,
)
from webapp.findings.search import filtered, page
from webapp.i18n import TERMS, current_locale_code, term
from webapp.org.models import Department, Site
from webapp.org.operations import choice_labels, live_choices
from webapp.photos.operations import gallery_items
from webapp.rectification.models import Rectification
from webapp.rectification.operations import overdue_among
from webapp.sync_store.models import Revision

bp = Blueprint("findings", __name__, url_prefix="/findings")

FILTER_KEYS = ("q", "date_from", "date_to", "department_id", "site_id", "area", "item_id", "severity",
               "min_severity", "status", "supervisor_id", "overdue", "conflict", "repeat", "rectification")


def _reference() -> dict:
    # plain rows, not ORM objects: a chain has thousands of sites and every list request offers them
    return {"departments": live_choices(Department), "sites": live_choices(Site)}


def _options(ref: dict) -> dict:
    return {
        **ref,
        "supervisors": db.session.scalars(select(User).where(User.role == "supervisor")
                                          .order_by(User.display_name)).all(),
        "items": db.session.scalars(select(TemplateItem).join(ChecklistTemplate)
                                    .where(ChecklistTemplate.is_current.is_(True))
                                    .order_by(TemplateItem.position)).all(),
    }


def _query_string(args, **extra) -> dict:
    out = {k: args[k] for k in FILTER_KEYS if args.get(k) not in (None, "", False)}
    out.update(extra)
    return out


def _row_labels(ref: dict) -> dict:
    """Everything the list's rows print, looked up once per request (the rows are the hot loop)."""
    loc = current_locale_code()
    tz = get_timezone()
    return {
        "site_labels": choice_labels(ref["sites"], loc),
        "dept_labels": choice_labels(ref["departments"], loc),
        "severity_labels": {c: str(label) for c, label in TERMS["severity"].items()},
        "status_labels": {c: str(label) for c, label in TERMS["finding_status"].items()},
        "short_dt": lambda v: v.astimezone(tz).strftime("%Y-%m-%d %H:%M") if v else "—",
        "detail_prefix": url_for("findings.index"),
    }


@bp.get("/")
@login_required
def index():
    args = list_args(request.args)
    query = filtered(current_user, args, db.engine.dialect.name)
    rows, next_cursor = page(query, args.get("cursor"))
    ref = _reference()
    ctx = dict(findings=rows, args=args, next_cursor=next_cursor, qs=_query_string(args),
               overdue_ids=overdue_among([f.id for f in rows]),
               can_assign=ops.can_assign(current_user), **_row_labels(ref))
    if request.headers.get("HX-Request") and args.get("cursor"):
        return render_block("findings/index.html", "rows", **ctx)
    return render_template("findings/index.html", **ctx, **_options(ref))


@bp.get("/export.xlsx")
@login_required
def export():
    """The direct download (scripts, small lists); the page's button makes an export job with the
    same builder (webapp/exports)."""
    base = (current_app.config.get("PUBLIC_URL") or request.url_root).rstrip("/")
    made = findings_export(current_user, {**export_params(request.args), "base_url": base})
    return send_file(io.BytesIO(made.data), as_attachment=True, download_name=made.filename, mimetype=made.mimetype)


@bp.post("/assign")
@login_required
def assign():
    try:
        args = AssignArgs().load({"ids": request.form.getlist("ids"),
                                  **{k: v for k, v in request.form.items() if k != "ids" and v != ""}})
    except ValidationError:
        flash(_("Select at least one finding and a department or a person."), "error")
        return redirect(url_for(".index", **request.args), 303)
    if not args.get("department_id") and args.get("responsible_person") is None:
        flash(_("Select at least one finding and a department or a person."), "error")
        return redirect(url_for(".index", **request.args), 303)
    if args.get("department_id") and db.session.get(Department, args["department_id"]) is None:
        abort(400)
    findings = ops.findings_by_ids(scoped(Finding, current_user), args["ids"])
    try:
        changed = ops.assign_findings(findings, current_user, args.get("department_id"),
                                      args.get("responsible_person"))
    except ops.NotAllowed:
        db.session.rollback()
        abort(403)
    except ops.AssignError as e:
        db.session.rollback()
        flash(str(e), "error")
        return redirect(url_for(".index", **request.args), 303)
    db.session.commit()
    flash(_("Responsibility assigned on %(n)d findings.", n=changed), "info")
    return redirect(url_for(".index", **request.args), 303)


def _detail_context(finding):
    photos = gallery_items(finding.photos, current_user)
    revisions = db.session.scalars(select(Revision).where(Revision.entity == "finding",
                                                          Revision.record_id == finding.id)
                                   .order_by(Revision.version.desc(), Revision.id.desc()).limit(50)).all()
    users = {u.id: u.display_name for u in db.session.scalars(select(User).where(
        User.id.in_({r.user_id for r in revisions if r.user_id} | {c.author_id for c in finding.comments})))}
    rect = db.session.scalar(select(Rectification).where(Rectification.finding_id == finding.id))
    reviews = review_ops.review_log([finding.id])
    users.update({u.id: u.display_name for u in db.session.scalars(select(User).where(
        User.id.in_({r.user_id for r in reviews} | ({finding.reviewed_by} if finding.reviewed_by else set()))))})
    linked = {f.id: f for f in db.session.scalars(scoped(Finding, current_user).where(Finding.id.in_(
        {r.other_id for r in reviews if r.other_id} | ({finding.merged_into_id} if finding.merged_into_id else set()))))}
    reviewer = can(current_user, "finding.review", finding)
    candidates = []
    if reviewer and finding.review_status in ("pending", "confirmed") and finding.status == "open":
        # Findings that may describe the same problem: the same site's, pending or confirmed.
        candidates = db.session.scalars(scoped(Finding, current_user).where(
            Finding.site_id == finding.site_id, Finding.id != finding.id, Finding.standing()).order_by(Finding.captured_at.desc()).limit(50)).all()
    # The items a correction may point to: those of the checklist the visit used.
    items = db.session.scalars(select(TemplateItem).where(
        TemplateItem.template_id == finding.visit.template_id).order_by(TemplateItem.position)).all() \
        if reviewer and finding.visit is not None else []
    item_ids = {v for r in reviews for v in (r.changes or {}).get("item_id", []) if v}
    item_titles = {i.id: (i.title_en if current_locale_code() == "en" and i.title_en else i.title)
                   for i in db.session.scalars(select(TemplateItem).where(TemplateItem.id.in_(item_ids)))}

    def review_value(name, value):
        """A corrected value as the reader says it: labels for codes, the item's title for its id."""
        if value in (None, ""):
            return "—"
        if name in ("severity", "area"):
            return term(name, value)
        if name == "item_id":
            return item_titles.get(value, "—")
        return value

    return dict(finding=finding, photos=photos, revisions=revisions, users=users, rect=rect, reviews=reviews,
                review_value=review_value,
                linked=linked, reviewer=reviewer, merge_candidates=candidates, items=items, severities=SEVERITIES)


@bp.get("/<finding_id>")
@login_required
def detail(finding_id):
    finding = get_scoped_or_404(Finding, finding_id, current_user)
    ctx = _detail_context(finding)
    if request.headers.get("HX-Request"):
        return render_block("findings/detail.html", "pane", **ctx)
    return render_template("findings/detail.html", **ctx)


@bp.post("/<finding_id>/comments")
@login_required
def comment(finding_id):
    finding = get_scoped_or_404(Finding, finding_id, current_user)
    try:
        args = CommentArgs().load(request.form)
    except ValidationError:
        ctx = _detail_context(finding)
        ctx["comment_error"] = _("Write a comment first.")
        if request.headers.get("HX-Request"):
            return render_block("findings/detail.html", "comments", **ctx), 400
        return render_template("findings/detail.html", **ctx), 400
    ops.add_comment(finding, current_user, args["body"])
    db.session.commit()
    db.session.refresh(finding)
    if request.headers.get("HX-Request"):
        return render_block("findings/detail.html", "comments", **_detail_context(finding))
    return redirect(url_for(".detail", finding_id=finding_id), 303)




# ---- the review step (docs/review.md#the-review-step) ------------------------------------------

@bp.get("/review")
@login_required
def review_queue():
    if not can(current_user, "finding.review"):
        abort(404)
    args = queue_args(request.args)
    rows, next_cursor = review_ops.review_queue(current_user, args)
    ref = _reference()
    supervisors = db.session.scalars(select(User).where(User.role == "supervisor").order_by(User.display_name)).all()
    ctx = dict(findings=rows, next_cursor=next_cursor, args=args, keep=_queue_filters(args),
               supervisor_labels={u.id: u.display_name for u in supervisors}, **_row_labels(ref))
    if is_htmx() and args.get("cursor"):  # "Load more": the next rows only
        return render_block("findings/review.html", "rows", **ctx)
    return render_template("findings/review.html", sites=ref["sites"], supervisors=supervisors,
                           awaiting=review_ops.awaiting_review_count(current_user), **ctx)


QUEUE_FILTERS = ("review", "site_id", "supervisor_id", "date_from", "date_to")


@bp.app_context_processor
def _review_badge():
    """How many findings await review, beside "To review" in the navigation (management only): a
    function, so only a page that shows the navigation counts (not an htmx fragment), once however
    many places show it (the sidebar and the phone's bottom bar). And, for every page that says how
    many await review (the queue, the dashboard), how far that count goes."""
    ctx = {"review_count_cap": review_ops.COUNT_CAP}
    if current_user and current_user.is_authenticated and can(current_user, "finding.review"):
        user = current_user._get_current_object()
        ctx.update(review_badge=functools.cache(lambda: review_ops.awaiting_review_badge(user)),
                   review_badge_cap=review_ops.BADGE_CAP)
    return ctx


def _queue_filters(args: dict | None = None) -> dict:
    """The queue's filters that were given and hold (`queue_args` drops the others), as URL values, for
    the links back to the same view. `args`: what `queue_args(request.args)` returned, if at hand."""
    args = queue_args(request.args) if args is None else args
    return {k: v.isoformat() if isinstance(v, date) else v
            for k in QUEUE_FILTERS if request.args.get(k) and (v := args.get(k)) is not None}


@bp.get("/review/awaiting")
@background
@login_required
def review_awaiting():
    """The open review queue's poll (templates/findings/_review_awaiting.html): 204 while the count
    of findings awaiting review is `last`, else the new count, and how many arrived since `shown`."""
    if not can(current_user, "finding.review"):
        abort(404)
    awaiting = review_ops.awaiting_review_count(current_user)
    if request.args.get("last", type=int) == awaiting:
        return "", 204
    return render_template("findings/review_awaiting.html", awaiting=awaiting,
                           shown=request.args.get("shown", type=int), keep=_queue_filters())


def _review_form(schema):
    data = {k: v for k, v in request.form.items() if k != "csrf_token"}
    for name in ("area", "item_id", "description", "impact"):
        if name in data and data[name] == "":
            data[name] = None
    return schema.load(data)


def _after_review(finding, message):
    db.session.commit()
    flash(message, "info")
    target = request.form.get("next")
    if target == "queue":
        return redirect(url_for(".review_queue"), 303)
    return redirect(url_for(".detail", finding_id=finding.id), 303)


@bp.post("/<finding_id>/review/<action>")
@login_required
def review(finding_id, action):
    finding = get_scoped_or_404(Finding, finding_id, current_user)
    if action not in ("confirm", "reject", "correct", "merge"):
        abort(404)
    schema = {"confirm": ReviewArgs, "reject": ReviewArgs, "correct": CorrectArgs, "merge": MergeArgs}[action]()
    try:
        args = _review_form(schema)
        if action == "confirm":
            review_ops.confirm_finding(finding, current_user, args.get("reason"))
            message = _("Finding confirmed.")
        elif action == "reject":
            review_ops.reject_finding(finding, current_user, args.get("reason"))
            message = _("Finding rejected: the supervisor sees the reason.")
        elif action == "correct":
            item = db.session.get(TemplateItem, args["item_id"]) if args.get("item_id") else None
            if args.get("item_id") and (item is None or finding.visit is None
                                        or item.template_id != finding.visit.template_id):
                raise ops.WorkflowError(_("No such checklist item."))  # only the visit's checklist
            review_ops.correct_finding(finding, current_user, {k: v for k, v in args.items() if k in CORRECTABLE},
                                       args.get("reason"))
            message = _("Finding corrected.")
        else:
            survivor = get_scoped_or_404(Finding, args["into_id"], current_user)
            review_ops.merge_findings(finding, survivor, current_user, args.get("reason"))
            return _after_review(survivor, _("Findings merged."))
    except ValidationError as e:
        db.session.rollback()
        return _review_error(finding, "; ".join(
            f"{v[0] if isinstance(v, list) else v}" for v in e.messages.values()), 400)
    except ops.NotAllowed as e:
        db.session.rollback()
        return _review_error(finding, str(e), 403)
    except ops.WorkflowError as e:
        db.session.rollback()
        return _review_error(finding, str(e), 409)
    return _after_review(finding, message)


def _review_error(finding, message, status):
    db.session.refresh(finding)
    ctx = _detail_context(finding)
    ctx["review_error"] = message
    return render_template("findings/detail.html", **ctx), status
