"""Links in work-app cards: /go/<kind>/<id> opens the object's page — in the phone app when the
reader is on a phone (or a work app's in-app browser on a phone) and the phone app has a page for it,
else on the desk. The object is looked up in the reader's scope (webapp/authz.py): out of scope and
missing are the same 404 as everywhere."""

import re

from flask import Blueprint, abort, redirect, request
from flask_login import current_user, login_required

from webapp.authz import can, get_scoped_or_404

bp = Blueprint("go", __name__, url_prefix="/go")

PHONE = re.compile(r"Mobi|Android|iPhone|iPod", re.I)
DESK_PATHS = {"visit": "/visits/{id}", "finding": "/findings/{id}", "report": "/reports/{id}",
              "rectification": "/rectification/{id}"}
PHONE_PATHS = {"visit": "/m/visit/{id}", "finding": "/m/finding/{id}", "rectification": "/m/finding/{id}"}
CARD_LINK = re.compile(r"^/(visits|findings|reports|rectification)/([0-9a-f-]{36})$")
CARD_KINDS = {"visits": "visit", "findings": "finding", "reports": "report", "rectification": "rectification"}


def _model(kind: str):
    from webapp.findings.models import Finding
    from webapp.reports.models import Report
    from webapp.visits.models import Visit

    return {"visit": Visit, "finding": Finding, "report": Report, "rectification": Finding}[kind]


def on_phone(user_agent: str) -> bool:
    """A phone's browser, or a work app's in-app browser on a phone (WeCom, DingTalk and Feishu say
    Mobile/Android/iPhone there; on a desktop they do not)."""
    return bool(PHONE.search(user_agent or ""))


def card_link(path: str | None) -> str | None:
    """The /go/ link for a desk path a card points at (other paths as they are)."""
    m = CARD_LINK.match(path or "")
    return f"/go/{CARD_KINDS[m.group(1)]}/{m.group(2)}" if m else path


@bp.get("/<kind>/<object_id>")
@login_required
def go(kind, object_id):
    if kind not in DESK_PATHS or not re.fullmatch(r"[0-9a-f-]{36}", object_id):
        abort(404)
    get_scoped_or_404(_model(kind), object_id, current_user)
    if kind in PHONE_PATHS and on_phone(request.headers.get("User-Agent", "")) and can(current_user, "device.push"):
        return redirect(PHONE_PATHS[kind].format(id=object_id), 303)
    return redirect(DESK_PATHS[kind].format(id=object_id), 303)
