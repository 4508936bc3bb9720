"""User administration (用户管理), /admin/users: administrators only (authz "admin.users")."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from webapp.auth.models import ROLES, User
from webapp.auth.reauth import recent_password_required
from webapp.authz import require
from webapp.core.formdata import form_to_dict
from webapp.extensions import db
from webapp.i18n import SUPPORTED
from webapp.org.models import Department
from webapp.users import operations as ops
from webapp.users.schemas import UserListArgs

bp = Blueprint("users", __name__, url_prefix="/admin/users")
PER_PAGE = 50
STATUSES = ("active", "disabled", "pending", "must_change")


@bp.before_request
@login_required
def _administrators_only():
    require(current_user, "admin.users")


def account_statuses(user: User) -> list[str]:
    if user.pending_approval:
        return ["pending"]
    out = ["active" if user.active else "disabled"]
    if user.must_change_password:
        out.append("must_change")
    return out


def account_status_label(code: str) -> str:
    return {"active": _("Active"), "disabled": _("Disabled"), "pending": _("Waiting for approval"),
            "must_change": _("Must change password")}.get(code, code)


@bp.context_processor
def _helpers():
    return {"account_statuses": account_statuses, "account_status_label": account_status_label}


def _user_or_404(user_id: str) -> User:
    user = db.session.get(User, user_id) if len(user_id) <= 36 else None
    if user is None:
        abort(404)
    return user


def _departments(include: str | None = None) -> list[Department]:
    """Departments an account may be put in (not archived), plus the one it is in now."""
    clause = Department.archived_at.is_(None)
    if include:
        clause = or_(clause, Department.id == include)
    return db.session.scalars(select(Department).where(clause).order_by(Department.code)).all()


def _list_args() -> dict:
    """The query string; a malformed filter is dropped rather than refused (a list always opens)."""
    raw = {k: v for k, v in request.args.items() if v != ""}
    errors = UserListArgs().validate(raw)
    return UserListArgs().load({k: v for k, v in raw.items() if k not in errors})


def _status_clause(status: str):
    return {
        "active": User.active.is_(True),
        "disabled": User.active.is_(False) & User.pending_approval.is_(False),
        "pending": User.pending_approval.is_(True),
        "must_change": User.must_change_password.is_(True),
    }[status]


@bp.get("/")
def index():
    args = _list_args()
    query = select(User)
    if args["q"]:
        like = "%" + args["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(*(col.ilike(like, escape="\\") for col in
                                  (User.username, User.display_name, User.mobile, User.email))))
    if args["role"]:
        query = query.where(User.role == args["role"])
    if args["department_id"]:
        query = query.where(User.department_id == args["department_id"])
    if args["status"]:
        query = query.where(_status_clause(args["status"]))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // PER_PAGE))
    page = min(args["page"], pages)
    order = (User.display_name.desc(), User.username.desc()) if args["sort"] == "-name" else (
        User.display_name, User.username)
    users = db.session.scalars(query.order_by(*order).offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    depts = {d.id: d for d in db.session.scalars(select(Department))}
    pending = db.session.scalar(select(func.count()).select_from(User).where(User.pending_approval.is_(True)))
    qs = {k: v for k, v in args.items() if v and k not in ("page", "sort")}
    sort = {} if args["sort"] == "name" else {"sort": args["sort"]}
    return render_template("users/index.html", users=users, args=args, page=page, pages=pages, total=total,
                           page_url=lambda n: url_for("users.index", **qs, **sort, page=n),
                           sort_url=url_for("users.index", **qs, **({} if sort else {"sort": "-name"})),
                           departments=_departments(), depts=depts, roles=ROLES, statuses=STATUSES,
                           pending=pending)


def _form(template, values, errors, status=200, user=None):
    return render_template(template, values=values, errors=errors, user=user, roles=ROLES, locales=SUPPORTED,
                           departments=_departments(user.department_id if user else None)), status


def _temporary(user, password, created):
    """The temporary password, shown once: never stored, never cached."""
    resp = render_template("users/temporary.html", user=user, password=password, created=created)
    return resp, 200, {"Cache-Control": "no-store"}


@bp.route("/new", methods=["GET", "POST"])
def new():
    if request.method == "GET":
        return _form("users/new.html", {}, {})
    values = form_to_dict(request.form)
    try:
        user, password = ops.create_account(current_user, values)
    except ops.AccountRefused as e:
        db.session.rollback()
        return _form("users/new.html", values, e.fields or {"_schema": [e.message]}, e.status)
    db.session.commit()
    return _temporary(user, password, created=True)


def _values(user: User) -> dict:
    return {f: getattr(user, f) or "" for f in ops.EDITABLE}


@bp.route("/<user_id>", methods=["GET", "POST"])
def edit(user_id):
    user = _user_or_404(user_id)
    if request.method == "GET":
        return _form("users/edit.html", _values(user), {}, user=user)
    values = {f: request.form.get(f, "") for f in ops.EDITABLE}
    if values.get("role") and values["role"] != user.role:
        # A role change is sensitive: the administrator's password again if it was not entered lately.
        return recent_password_required(lambda: _save(user, values))()
    return _save(user, values)


def _save(user, values):
    user_id = user.id
    try:
        changes = ops.update_account(current_user, user, values)
    except ops.AccountRefused as e:
        db.session.rollback()
        return _form("users/edit.html", values, e.fields or {"_schema": [e.message]}, e.status,
                     user=db.session.get(User, user_id))
    db.session.commit()
    flash(_("The account was saved.") if changes else _("Nothing was changed."), "info")
    return redirect(url_for("users.edit", user_id=user.id))


def _act(user_id, work, done: str):
    """One of the account's buttons: do it, or say why not; back to the account either way."""
    user = _user_or_404(user_id)
    try:
        work(user)
    except ops.AccountRefused as e:
        db.session.rollback()
        user = db.session.get(User, user_id)
        return _form("users/edit.html", _values(user), {"_schema": [e.message]}, e.status, user=user)
    db.session.commit()
    flash(done, "info")
    return redirect(url_for("users.edit", user_id=user.id))


@bp.post("/<user_id>/disable")
def disable(user_id):
    return _act(user_id, lambda u: ops.deactivate_account(current_user, u),
                _("The account was disabled; its sign-ins and devices were signed out. Its history stays."))


@bp.post("/<user_id>/enable")
def enable(user_id):
    return _act(user_id, lambda u: ops.activate_user(current_user, u), _("The account was enabled."))


@bp.post("/<user_id>/unlock")
def unlock(user_id):
    return _act(user_id, lambda u: ops.unlock_user(current_user, u),
                _("Failed sign-ins were forgotten: this user can sign in again without waiting."))


@bp.post("/<user_id>/approve")
def approve(user_id):
    user = _user_or_404(user_id)
    values = form_to_dict(request.form)
    try:
        ops.approve_user(current_user, user, values)
    except ops.AccountRefused as e:
        db.session.rollback()
        user = db.session.get(User, user_id)
        return _form("users/edit.html", _values(user) | values, e.fields or {"_schema": [e.message]},
                     e.status, user=user)
    db.session.commit()
    flash(_("The account was approved: %(name)s can sign in now.", name=user.display_name), "info")
    return redirect(url_for("users.edit", user_id=user.id))


@bp.post("/<user_id>/password")
def reset_password(user_id):
    user = _user_or_404(user_id)
    refusal = (_("Change your own password on the password page.") if user.id == current_user.id
               else None if user.active else _("Enable the account first: a disabled account cannot sign in."))
    if refusal:
        return _form("users/edit.html", _values(user), {"_schema": [refusal]}, 400, user=user)
    password = ops.reset_password(current_user, user)
    db.session.commit()
    return _temporary(user, password, created=False)
