from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.extensions import db
from webapp.notifications.models import Notification
from webapp.notifications.operations import mark_read, render_notification, unread_count

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def _bell():
    if current_user and current_user.is_authenticated:
        return {"unread_notifications": lambda: unread_count(current_user)}
    return {}


@bp.get("/")
@login_required
def index():
    items = db.session.scalars(
        select(Notification).where(Notification.user_id == current_user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(200)
    ).all()
    return render_template("notifications/index.html", items=items, render=render_notification)


@bp.post("/<int:notification_id>/open")
@login_required
def open_(notification_id):
    n = db.session.get(Notification, notification_id)
    if n is None or n.user_id != current_user.id:
        return redirect(url_for(".index"))
    mark_read(current_user, notification_id)
    db.session.commit()
    target = n.link if n.link and n.link.startswith("/") and not n.link.startswith("//") else url_for(".index")
    return redirect(target)


@bp.post("/read-all")
@login_required
def read_all():
    mark_read(current_user)
    db.session.commit()
    if request.headers.get("HX-Request"):
        return render_template("notifications/_bell.html")
    return redirect(url_for(".index"))
