"""Single sign-on pages: /sso/<provider>/start sends the browser to the provider, /sso/<provider>/callback
comes back with a code and signs in exactly as a password does (the same server-side session); the
administrator's /admin/sign-in page shows the providers and sets the unknown-user policy.

The state, nonce and PKCE verifier of one sign-in live in the Flask session between start and
callback and are used once. Every failure at the callback is a 4xx page saying what happened."""

import hmac
import time
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from webapp.auth.loaders import SESSION_KEY
from webapp.auth.operations import end_session, start_session
from webapp.authz import require
from webapp.core.database import sqlite_reading
from webapp.core.formdata import form_to_dict
from webapp.core.views import load_form
from webapp.extensions import db
from webapp.sso.operations import (
    UNKNOWN_USER_POLICIES,
    set_unknown_user_policy,
    sign_in_with_profile,
    unknown_user_policy,
)
from webapp.sso.providers import (
    NAMES,
    PROVIDERS,
    REQUIRED,
    ProviderError,
    Stash,
    configured_providers,
    get_provider,
    is_configured,
)
from webapp.sso.schemas import SignInSettingsArgs

bp = Blueprint("sso", __name__)

STASH_KEY = "sso"
STASH_MAX_AGE = 15 * 60  # seconds between start and callback


def _safe_next(target: str | None) -> str | None:
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def callback_url(key: str) -> str:
    """The address to register with the provider. PUBLIC_URL (https://…) when set, since behind a
    proxy the request's own host may not be the one the browser sees."""
    base = current_app.config.get("PUBLIC_URL")
    if base:
        return base.rstrip("/") + url_for("sso.callback", provider=key)
    return url_for("sso.callback", provider=key, _external=True)


def _writes(view):
    """A GET that writes (the callback signs in): take SQLite's write lock at BEGIN like a POST."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        with sqlite_reading(False):
            return view(*args, **kwargs)

    return wrapped


def _message(status: int, title: str, message: str, provider_key: str | None = None):
    return render_template("sso/message.html", status=status, title=title, message=message,
                           provider_name=NAMES.get(provider_key)), status


def _provider_or_404(key: str):
    provider = get_provider(key) if key in PROVIDERS else None
    if provider is None:
        abort(404)
    return provider


@bp.get("/sso/<provider>/start")
def start(provider):
    p = _provider_or_404(provider)
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
    in_app = request.args.get("inapp") == "1" or p.in_app(request.headers.get("User-Agent", ""))
    stash = p.new_stash()
    try:
        url = p.authorize_url(callback_url(p.key), stash, in_app)
    except ProviderError as e:
        current_app.logger.warning("sso %s start failed: %s", p.key, e.reason)
        return _message(400, _("Sign-in is not available"),
                        _("%(provider)s cannot be reached just now. Try again in a moment, or sign in with "
                          "your password.", provider=NAMES[p.key]), p.key)
    session[STASH_KEY] = {"provider": p.key, "state": stash.state, "nonce": stash.nonce, "verifier": stash.verifier,
                          "next": _safe_next(request.args.get("next")), "at": int(time.time())}
    return redirect(url)


@bp.get("/sso/<provider>/callback")
@_writes
def callback(provider):
    p = _provider_or_404(provider)
    name = NAMES[p.key]
    saved = session.pop(STASH_KEY, None)  # single use, whatever happens next
    state = request.args.get("state", "")
    if (not isinstance(saved, dict) or saved.get("provider") != p.key or not isinstance(saved.get("state"), str)
            or not hmac.compare_digest(saved["state"].encode(), state.encode()[:200])
            or time.time() - int(saved.get("at") or 0) > STASH_MAX_AGE):
        return _message(400, _("This sign-in link is not valid"),
                        _("The sign-in with %(provider)s expired, was already used or was tampered with. "
                          "Start again from the sign-in page.", provider=name), p.key)
    code = request.args.get("code") or request.args.get("authCode", "")  # DingTalk calls it authCode
    if request.args.get("error") or not code or len(code) > 2048:
        return _message(400, _("Sign-in was not confirmed"),
                        _("%(provider)s did not confirm your sign-in (it was cancelled or refused). "
                          "Start again from the sign-in page.", provider=name), p.key)
    stash = Stash(state=saved["state"], nonce=saved.get("nonce"), verifier=saved.get("verifier"))
    try:
        profile = p.fetch_profile(code, callback_url(p.key), stash)
    except ProviderError as e:
        current_app.logger.warning("sso %s callback failed: %s", p.key, e.reason)
        return _message(400, _("Sign-in failed"),
                        _("%(provider)s could not confirm who you are: the code was refused, the answer was "
                          "not valid or the service did not answer in time. Start again from the sign-in page.",
                          provider=name), p.key)
    outcome = sign_in_with_profile(p.key, profile, request.remote_addr)
    if outcome.status != "ok":
        db.session.commit()  # the refusal's audit entry, a linked identity, a pending account
        return _refusal(outcome.status, p.key)
    user = outcome.user
    end_session(session.get(SESSION_KEY))  # someone else's sign-in in this browser ends here
    sid = start_session(user, method=p.key)
    db.session.commit()
    session.clear()
    session.permanent = True  # lasts SESSION_LIFETIME_DAYS, as a password sign-in does
    login_user(user)
    session[SESSION_KEY] = sid
    return redirect(saved.get("next") or url_for("home.index"))


def _refusal(status: str, key: str):
    name = NAMES[key]
    if status == "pending":
        return _message(403, _("Your account waits for approval"),
                        _("You signed in with %(provider)s. Your account waits for an administrator's approval; "
                          "you can sign in once it is approved.", provider=name), key)
    if status == "disabled":
        return _message(403, _("Your account is disabled"),
                        _("You signed in with %(provider)s, but your account here is disabled. "
                          "Ask an administrator.", provider=name), key)
    if status == "ambiguous":
        return _message(403, _("Your account could not be identified"),
                        _("Several accounts here have the mobile number or email that %(provider)s gave. "
                          "Ask an administrator to correct them.", provider=name), key)
    return _message(403, _("No account for you here"),
                    _("You signed in with %(provider)s, but nobody here has your account. "
                      "Ask an administrator to create it.", provider=name), key)


# ---- the sign-in page ------------------------------------------------------------------------------

@bp.app_context_processor
def _sign_in_buttons():
    def sso_buttons():
        next_ = _safe_next(request.args.get("next"))
        return [{"key": p.key, "label": p.label, "hint": p.qr_hint,
                 "url": url_for("sso.start", provider=p.key, next=next_)} for p in configured_providers()]

    return {"sso_buttons": sso_buttons}


@bp.before_app_request
def _silent_sign_in():
    """Inside WeCom, DingTalk or Feishu on a phone the sign-in page goes straight to the provider:
    the member is already signed in there. ?manual=1 shows the page (after a refusal, say)."""
    if request.endpoint != "auth.login" or request.method != "GET" or request.args.get("manual"):
        return None
    agent = request.headers.get("User-Agent", "")
    if not agent or current_user.is_authenticated:
        return None
    for p in configured_providers():
        if p.in_app(agent):
            return redirect(url_for("sso.start", provider=p.key, inapp=1, next=_safe_next(request.args.get("next"))))
    return None


# ---- the administrator's page ----------------------------------------------------------------------

def _settings_page(status=200, errors=None):
    rows = []
    for key in PROVIDERS:
        configured = is_configured(key)
        provider = PROVIDERS[key](current_app.config)
        rows.append({"key": key, "name": NAMES[key], "configured": configured, "callback": callback_url(key),
                     "required": REQUIRED[key],
                     "settings": [(n, v) for n, v in provider.public_settings() if v]})
    return render_template("sso/settings.html", providers=rows, policy=unknown_user_policy(),
                           policies=UNKNOWN_USER_POLICIES, errors=errors or {}), status


@bp.route("/admin/sign-in", methods=["GET", "POST"])
@login_required
def settings():
    require(current_user, "admin.settings")
    if request.method == "GET":
        return _settings_page()
    values, errors = load_form(SignInSettingsArgs(), form_to_dict(request.form))
    if errors:
        return _settings_page(400, errors)
    if set_unknown_user_policy(values["unknown_users"], current_user):
        db.session.commit()
        flash(_("Sign-in settings saved."), "success")
    return redirect(url_for("sso.settings"))
