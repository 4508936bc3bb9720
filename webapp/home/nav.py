"""Navigation per role. An entry shows only when its page exists, so features plug in by
registering their blueprint."""

from flask import current_app, request
from flask_babel import lazy_gettext as _l

# (endpoint, label, icon, roles)
ENTRIES = [
    ("home.index", _l("Home"), "home", ("admin", "manager", "supervisor", "dept_head", "staff")),
    ("mobile.app", _l("Site app"), "visit", ("supervisor",)),
    ("visits.index", _l("Visits"), "visit", ("manager", "supervisor", "dept_head", "admin")),
    ("findings.index", _l("Findings"), "finding", ("admin", "manager", "supervisor", "dept_head", "staff")),
    ("findings.review_queue", _l("To review"), "review", ("admin", "manager")),
    ("plans.index", _l("Plans"), "plan", ("admin", "manager", "supervisor")),
    ("reports.index", _l("Reports"), "report", ("admin", "manager", "supervisor", "dept_head")),
    ("rectification.index", _l("Rectification"), "fix", ("admin", "manager", "supervisor", "dept_head")),
    ("conflicts.index", _l("Conflicts"), "conflict", ("admin", "manager")),
    ("results.dashboard", _l("Dashboard"), "chart", ("admin", "manager")),
    ("warnings.index", _l("Early warnings"), "alert", ("admin", "manager")),
    ("training.index", _l("Training"), "users", ("admin", "manager", "dept_head")),
    ("points.ledger", _l("Performance points"), "chart", ("admin", "manager", "dept_head")),
    ("supervisors.index", _l("Supervisors"), "users", ("admin", "manager")),
    ("supervisors.index", _l("My scorecard"), "chart", ("supervisor",)),
    ("evaluation.index", _l("Evaluations"), "report", ("admin", "manager", "supervisor", "dept_head")),
    ("policy.index", _l("Policy log"), "plan", ("admin", "manager", "supervisor", "dept_head")),
    ("checklists.index", _l("Checklist templates"), "report", ("admin",)),
    ("admin.index", _l("Administration"), "users", ("admin",)),
]


def nav_for(user):
    views = current_app.view_functions
    items = []
    # A page with its own entry (the review queue inside findings) lights only that entry; another
    # page of a blueprint lights the blueprint's first entry (a finding's page: Findings).
    exact = request.endpoint in {e[0] for e in ENTRIES}
    firsts = {}
    for e in ENTRIES:
        firsts.setdefault(e[0].split(".")[0], e[0])
    for endpoint, label, icon, roles in ENTRIES:
        if user.role in roles and endpoint in views:
            blueprint = endpoint.split(".")[0]
            active = (request.endpoint == endpoint) if exact else (
                request.blueprint == blueprint and firsts[blueprint] == endpoint and request.endpoint != "home.more")
            items.append({"endpoint": endpoint, "label": label, "icon": icon, "active": active})
    return items


BAR_SIZE = 5  # entries the phone's bottom bar holds; with more, the last place is "More"


def bar_for(nav: list) -> tuple[list, bool]:
    """(entries in the phone's bottom bar, whether it ends with "More")."""
    if len(nav) <= BAR_SIZE:
        return nav, False
    return nav[:BAR_SIZE - 1], True
