"""Administration (管理员): the landing page that gathers the administrator's pages. Each section is
its own feature package (users, org, onboarding, audit, sso) and plugs in here by registering its
blueprint; this page lists the ones present."""

from flask import Blueprint, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from webapp.authz import require

bp = Blueprint("admin", __name__, url_prefix="/admin")

# (endpoint, title, what it is for)
SECTIONS = [
    ("users.index", _l("Users"), _l("Accounts, roles and departments; disable, reset a password, unlock.")),
    ("org.index", _l("Organisation"), _l("Departments, branches and regions as a tree; sites with address, "
                                         "geofence, class and site manager.")),
    ("onboarding.index", _l("Import from Excel"), _l("Users, sites, departments and checklist templates "
                                                     "from a spreadsheet, previewed before anything is saved.")),
    ("checklists.index", _l("Checklist templates"), _l("Items, areas, weights and required photos.")),
    ("sso.settings", _l("Sign-in"), _l("Single sign-on with WeCom, DingTalk, Feishu or your identity provider.")),
    ("channels.index", _l("Message channels"), _l("Email, work-app messages and webhooks.")),
    ("audit.index", _l("Audit log"), _l("Who changed which user, role, site or template, and when.")),
]


@bp.before_request
@login_required
def _administrators_only():
    require(current_user, "admin.users")


@bp.get("/")
def index():
    views = current_app.view_functions
    sections = [{"endpoint": e, "title": t, "text": x} for e, t, x in SECTIONS if e in views]
    return render_template("admin/index.html", sections=sections)
