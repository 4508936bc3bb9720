"""运营督导系统 — the Flask application factory."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask, g, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from webapp.config import Config
from webapp.core.errors import api_error  # noqa: F401  (re-exported: older imports)
from webapp.extensions import babel, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    instance_path = os.environ.get("INSTANCE_PATH") or str(ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=instance_path,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        static_url_path="/static",
    )
    from webapp.core.request import CleanRequest, DepthLimitedJSON

    app.request_class = CleanRequest
    app.json = DepthLimitedJSON(app)
    app.config.from_object(Config)
    if test_config:
        app.config.update(test_config)
    # The session cookie of a sign-in lasts as long as its server-side record (auth.operations).
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(days=app.config["SESSION_LIFETIME_DAYS"])
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'supervision.db'}"
    if not app.config.get("MEDIA_ROOT"):
        app.config["MEDIA_ROOT"] = str(Path(app.instance_path) / "media")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked in _protect below, bearer API calls excepted

    from webapp.photos.storage import check_store_config

    check_store_config(app.config)  # S3 configured without boto3: refuse to start, saying why
    from webapp.photos.ingest import resolve_backend

    resolve_backend(app.config.get("PHOTO_BACKEND"))  # a wrong PHOTO_BACKEND: refuse to start, saying why

    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    _register_errors(app)

    from webapp.cli import register_cli

    register_cli(app)
    return app


def _instance_secret(instance: Path) -> str:
    """A random key kept in the instance folder, so a demo needs no configuration and no secret
    is ever committed. Production sets SECRET_KEY."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    from webapp.i18n import select_locale, select_timezone

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=str(ROOT / "webapp" / "translations"))

    from webapp.core.database import configure_engine

    with app.app_context():
        configure_engine(db.engine, pg_parallel_workers=app.config["PG_PARALLEL_WORKERS"])

    import webapp.models  # noqa: F401  (registers every table on the metadata)
    from webapp.sync_store.tracking import install_tracking

    install_tracking()
    from webapp.findings.repeats import install_repeat_detection

    install_repeat_detection()
    from webapp.results.dashboard.tallies import install_tally_hooks

    install_tally_hooks()  # after repeat detection's before_flush: recounts see the repeats it links
    from webapp.photos.refs import install_photo_refs

    install_photo_refs()
    from webapp.rectification.deadlines import install_deadline_copy

    install_deadline_copy()
    from webapp.outbox.hooks import install_outbox_hooks

    install_outbox_hooks()  # after a commit that wrote outbox rows, nudge the job queue
    from webapp.auth.loaders import NoCookieForBearerSessions

    app.session_interface = NoCookieForBearerSessions()


def _register_blueprints(app: Flask) -> None:
    from webapp.account.views import bp as account_bp
    from webapp.admin.views import bp as admin_bp
    from webapp.api import bp as api_bp
    from webapp.audit.views import bp as audit_bp
    from webapp.auth.reauth import bp as reauth_bp
    from webapp.auth.views import bp as auth_bp
    from webapp.checklists.views import bp as checklists_bp
    from webapp.conflicts.views import bp as conflicts_bp
    from webapp.evidence.views import bp as evidence_bp
    from webapp.exports.views import bp as exports_bp
    from webapp.findings.views import bp as findings_bp
    from webapp.home.views import bp as home_bp
    from webapp.mobile.views import bp as mobile_bp
    from webapp.notifications.views import bp as notifications_bp
    from webapp.onboarding.views import bp as onboarding_bp
    from webapp.org.views import bp as org_bp
    from webapp.outbox.golinks import bp as go_bp
    from webapp.outbox.views import bp as channels_bp
    from webapp.plans.recurring_views import bp as recurring_bp
    from webapp.plans.views import bp as plans_bp
    from webapp.rectification.views import bp as rectification_bp
    from webapp.reports.views import bp as reports_bp
    from webapp.results.calibration.views import bp as calibration_bp
    from webapp.results.dashboard.views import bp as results_bp
    from webapp.results.evaluation.views import bp as evaluation_bp
    from webapp.results.points.views import bp as points_bp
    from webapp.results.policy.views import bp as policy_bp
    from webapp.results.supervisors.views import bp as supervisors_bp
    from webapp.results.training.views import bp as training_bp
    from webapp.results.warnings.views import bp as warnings_bp
    from webapp.setup.views import bp as setup_bp
    from webapp.sso.views import bp as sso_bp
    from webapp.users.views import bp as users_bp
    from webapp.visits.views import bp as visits_bp

    for bp in (auth_bp, home_bp, visits_bp, findings_bp, plans_bp, checklists_bp, reports_bp,
               rectification_bp, notifications_bp, conflicts_bp, mobile_bp, api_bp, results_bp, training_bp,
               warnings_bp, points_bp, supervisors_bp, evaluation_bp, policy_bp, admin_bp,
               setup_bp, users_bp, audit_bp, account_bp, reauth_bp, sso_bp, org_bp, onboarding_bp,
               evidence_bp, channels_bp, exports_bp, go_bp, recurring_bp, calibration_bp):
        app.register_blueprint(bp)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _set_actor() -> None:
    """Who acts, once per request: the signed-in user, resolved only when a synced record is
    written (webapp/sync_store/tracking.py), so reading the user never opens a write transaction
    early (on SQLite, BEGIN IMMEDIATE: the one writer lock)."""

    def actor() -> dict:
        from flask_login import current_user

        return {"user_id": current_user.id if current_user.is_authenticated else None, "actor": "web"}

    g.actor = actor


def _register_hooks(app: Flask) -> None:
    from webapp.auth.loaders import uses_bearer
    from webapp.core.database import read_only

    @app.before_request
    def _protect():
        g.read_only_token = read_only.set(request.method in ("GET", "HEAD", "OPTIONS"))
        _set_actor()
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        # A bearer request is authenticated by its token alone (its cookie is ignored: auth/loaders.py),
        # so no session cookie is in play and there is nothing to forge.
        if is_api_request() and (uses_bearer(request) or app.config["SESSION_COOKIE_NAME"] not in request.cookies):
            return
        csrf.protect()

    @app.teardown_request
    def _reset(_exc):
        token = g.pop("read_only_token", None)
        if token is not None:
            read_only.reset(token)

    @app.after_request
    def _headers(resp):
        h = resp.headers
        h.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
        if request.headers.get("HX-Request") is not None or "HX-Request" in resp.vary:
            resp.vary.add("HX-Request")
        if app.config.get("SESSION_COOKIE_SECURE"):
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        return resp

    @app.context_processor
    def _globals():
        from webapp.i18n import current_locale_code, term

        return {"locale_code": current_locale_code(), "languages": app.config["LANGUAGES"], "term": term,
                "has_page": lambda endpoint: endpoint in app.view_functions}


def _register_errors(app: Flask) -> None:
    from flask import render_template

    messages = {
        400: lambda: _("The request could not be understood."),
        401: lambda: _("Please sign in."),
        403: lambda: _("You do not have permission to do that."),
        404: lambda: _("Not found, or not yours to see."),
        405: lambda: _("That method is not allowed here."),
        409: lambda: _("That conflicts with the current state."),
        413: lambda: _("The upload is too large."),
        415: lambda: _("That type of content is not supported."),
        422: lambda: _("The content could not be processed."),
        429: lambda: _("Too many attempts. Please wait and try again."),
    }

    @app.errorhandler(CSRFError)
    def _csrf(e):
        msg = _("Your session form expired or was tampered with. Reload the page and try again.")
        if is_api_request():
            return api_error(400, "csrf", msg)
        return render_template("errors/error.html", status=400, message=msg), 400

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException):
        status = e.code or 500
        msg = messages.get(status, lambda: e.description)()
        # Keep the exception's own headers (Allow on 405, RFC 9110), minus its HTML content type.
        headers = [(k, v) for k, v in e.get_headers() if k.lower() != "content-type"]
        if is_api_request():
            resp = api_error(status, e.name.lower().replace(" ", "_"), msg)
            resp.headers.extend(headers)
            return resp
        return render_template("errors/error.html", status=status, message=msg), status, headers

    @app.errorhandler(StaleDataError)
    def _stale(e: StaleDataError):
        # Someone else's change to the same record committed between this request's read and its
        # write (the version it loaded is gone): nothing of this request was saved.
        db.session.rollback()
        msg = _("Someone else changed this record while you were editing it. Nothing was saved: "
                "reload the page to see the current version, then make your change again.")
        if is_api_request():
            return api_error(409, "changed_meanwhile", msg)
        return render_template("errors/error.html", status=409, message=msg), 409

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        app.logger.exception("unhandled error")
        db.session.rollback()
        msg = _("Something went wrong on our side. Nothing you saved was lost; please try again.")
        if is_api_request():
            return api_error(500, "internal", msg)
        return render_template("errors/error.html", status=500, message=msg), 500

    @login_manager.unauthorized_handler
    def _unauthorized():
        from flask import flash, redirect, url_for

        from webapp.auth.loaders import refusal

        code, message = refusal()
        if is_api_request():
            return api_error(401, code, message)
        web_messages = {
            "account_disabled": lambda: _("Your account has been disabled. Ask your administrator if you need "
                                          "access again."),
            "session_expired": lambda: _("Your sign-in has expired. Please sign in again."),
            "signed_out": lambda: _("You were signed out on this device. Please sign in again."),
        }
        if code in web_messages:
            flash(web_messages[code](), "error")
        return redirect(url_for("auth.login", next=request.full_path))

