"""The single-sign-on providers: an OpenID Connect issuer, WeCom (企业微信), DingTalk (钉钉) and Feishu
(飞书). Each is on when its environment variables are set (docs/sign-in.md) and knows two things:
where to send the browser (`authorize_url`) and how to turn the code it comes back with into a
`Profile` (`fetch_profile`), server to server. Nothing here touches the database or the session.

Every failure at the provider (an error answer, a refused code, a timeout, a bad ID token) raises
`ProviderError`; the view turns it into a 4xx page, never a 500.
"""

import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from flask import current_app
from flask_babel import lazy_gettext as _l


class ProviderError(Exception):
    """The provider refused or failed; `reason` is for the log and the audit, never a secret."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason[:300]


@dataclass
class Profile:
    """Who the provider says signed in."""

    subject: str  # the provider's stable id: OIDC sub, WeCom userid, DingTalk unionId, Feishu union_id
    name: str | None = None
    email: str | None = None  # only when the provider says it is verified
    mobile: str | None = None


@dataclass
class Stash:
    """What one sign-in keeps in the Flask session between start and callback (single use)."""

    state: str
    nonce: str | None = None
    verifier: str | None = None


def _http(method: str, url: str, **kw) -> dict:
    """One JSON call to a provider; any transport failure or non-JSON answer is a ProviderError."""
    try:
        resp = requests.request(method, url, timeout=current_app.config["SSO_HTTP_TIMEOUT"], **kw)
    except requests.Timeout:
        raise ProviderError(f"timeout calling {url.split('?')[0]}") from None
    except requests.RequestException as e:
        raise ProviderError(f"cannot reach {url.split('?')[0]}: {type(e).__name__}") from None
    try:
        data = resp.json()
    except ValueError:
        raise ProviderError(f"{url.split('?')[0]} answered HTTP {resp.status_code} without JSON") from None
    if not isinstance(data, dict):
        raise ProviderError(f"{url.split('?')[0]} answered an unexpected shape")
    data["_status"] = resp.status_code
    return data


def _text(value, limit: int = 255) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    value = str(value).strip()
    return value[:limit] or None


class Provider:
    key = ""
    label = _l("Single sign-on")
    # Substrings of the User-Agent of the provider's in-app browser (case-insensitive); empty: none.
    user_agents: tuple[str, ...] = ()
    # Shown on the desk under the button: the provider shows a QR code to scan with its phone app.
    qr_hint = None

    def __init__(self, config):
        self.config = config

    def in_app(self, user_agent: str) -> bool:
        ua = (user_agent or "").lower()
        return any(marker.lower() in ua for marker in self.user_agents)

    def new_stash(self) -> Stash:
        return Stash(state=secrets.token_urlsafe(24))

    def authorize_url(self, redirect_uri: str, stash: Stash, in_app: bool) -> str:
        raise NotImplementedError

    def fetch_profile(self, code: str, redirect_uri: str, stash: Stash) -> Profile:
        raise NotImplementedError

    def public_settings(self) -> list[tuple[str, str]]:
        """(variable, value) pairs safe to show an administrator: ids and addresses, never a secret."""
        return []


# ---- OpenID Connect --------------------------------------------------------------------------------

class OIDCProvider(Provider):
    key = "oidc"

    @property
    def label(self):
        custom = self.config.get("OIDC_BUTTON_LABEL")
        return custom or _l("Sign in with your company account")

    def _metadata(self) -> dict:
        issuer = self.config["OIDC_ISSUER"].rstrip("/")
        meta = _http("GET", issuer + "/.well-known/openid-configuration")
        for field in ("authorization_endpoint", "token_endpoint", "jwks_uri", "issuer"):
            if not isinstance(meta.get(field), str):
                raise ProviderError(f"discovery document lacks {field}")
        if meta["issuer"].rstrip("/") != issuer:
            raise ProviderError("discovery document names another issuer")
        return meta

    def _session(self, redirect_uri: str):
        from authlib.integrations.requests_client import OAuth2Session

        return OAuth2Session(self.config["OIDC_CLIENT_ID"], self.config["OIDC_CLIENT_SECRET"],
                             scope=self.config.get("OIDC_SCOPES") or "openid", redirect_uri=redirect_uri,
                             code_challenge_method="S256")

    def new_stash(self) -> Stash:
        return Stash(state=secrets.token_urlsafe(24), nonce=secrets.token_urlsafe(24),
                     verifier=secrets.token_urlsafe(48))

    def authorize_url(self, redirect_uri: str, stash: Stash, in_app: bool) -> str:
        meta = self._metadata()
        url, _state = self._session(redirect_uri).create_authorization_url(
            meta["authorization_endpoint"], state=stash.state, nonce=stash.nonce, code_verifier=stash.verifier)
        return url

    def fetch_profile(self, code: str, redirect_uri: str, stash: Stash) -> Profile:
        from authlib.common.errors import AuthlibBaseError
        from authlib.oidc.core import CodeIDToken
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet
        from joserfc.jws import JWSRegistry

        meta = self._metadata()
        client = self._session(redirect_uri)
        try:
            token = client.fetch_token(meta["token_endpoint"], code=code, code_verifier=stash.verifier,
                                       timeout=self.config["SSO_HTTP_TIMEOUT"])
        except AuthlibBaseError as e:  # OAuthError / OAuth2Error: the provider's error answer
            raise ProviderError(f"token endpoint refused the code: {e.error}") from None
        except requests.RequestException as e:
            raise ProviderError(f"token endpoint unreachable: {type(e).__name__}") from None
        except ValueError:
            raise ProviderError("token endpoint answered without JSON") from None
        if "id_token" not in token:
            raise ProviderError("no id_token in the token response")
        jwks = _http("GET", meta["jwks_uri"])
        jwks.pop("_status", None)
        try:
            keys = KeySet.import_key_set(jwks)
            decoded = jwt.decode(token["id_token"], keys, registry=JWSRegistry(
                algorithms=meta.get("id_token_signing_alg_values_supported") or ["RS256"]))
            claims = CodeIDToken(decoded.claims, decoded.header, {"iss": {"values": [meta["issuer"]]}},
                                 {"nonce": stash.nonce, "client_id": self.config["OIDC_CLIENT_ID"],
                                  "access_token": token.get("access_token")})
            claims.validate(leeway=120)
        except (JoseError, AuthlibBaseError, ValueError, KeyError, TypeError) as e:
            raise ProviderError(f"id_token rejected: {type(e).__name__}: {e}") from None
        info = dict(claims)
        userinfo_url = meta.get("userinfo_endpoint")
        if userinfo_url and token.get("access_token"):
            # The ID token may carry only `sub`; the rest is at the userinfo endpoint.
            extra = _http("GET", userinfo_url, headers={"Authorization": f"Bearer {token['access_token']}"})
            if extra.get("_status") == 200 and extra.get("sub") == info.get("sub"):
                for k, v in extra.items():
                    info.setdefault(k, v)
        subject = _text(info.get("sub"))
        if not subject:
            raise ProviderError("id_token without sub")
        email = _text(info.get("email"), 200) if info.get("email_verified") is True else None
        mobile = _text(info.get("phone_number"), 32) if info.get("phone_number_verified") is True else None
        return Profile(subject=subject, name=_text(info.get("name"), 80), email=email, mobile=mobile)

    def public_settings(self):
        return [("OIDC_ISSUER", self.config.get("OIDC_ISSUER")), ("OIDC_CLIENT_ID", self.config.get("OIDC_CLIENT_ID")),
                ("OIDC_SCOPES", self.config.get("OIDC_SCOPES"))]


# ---- WeCom 企业微信 ---------------------------------------------------------------------------------

class WeComProvider(Provider):
    key = "wecom"
    label = _l("Sign in with WeCom")
    user_agents = ("wxwork/",)
    qr_hint = _l("Scan the QR code with WeCom on your phone.")

    def authorize_url(self, redirect_uri, stash, in_app):
        c = self.config
        if in_app:
            # Inside WeCom: the silent web authorization (snsapi_base), no click, no QR code.
            query = urlencode({"appid": c["WECOM_CORP_ID"], "redirect_uri": redirect_uri, "response_type": "code",
                               "scope": "snsapi_base", "state": stash.state, "agentid": c["WECOM_AGENT_ID"]})
            return f"{c['WECOM_OAUTH_BASE'].rstrip('/')}/connect/oauth2/authorize?{query}#wechat_redirect"
        query = urlencode({"login_type": "CorpApp", "appid": c["WECOM_CORP_ID"], "agentid": c["WECOM_AGENT_ID"],
                           "redirect_uri": redirect_uri, "state": stash.state})
        return f"{c['WECOM_LOGIN_BASE'].rstrip('/')}/wwlogin/sso/login?{query}"

    def _call(self, method, path, **kw):
        data = _http(method, self.config["WECOM_API_BASE"].rstrip("/") + path, **kw)
        if data.get("errcode") not in (0, None) or data["_status"] != 200:
            raise ProviderError(f"WeCom {path}: errcode {data.get('errcode')} {_text(data.get('errmsg'), 120)}")
        return data

    def fetch_profile(self, code, redirect_uri, stash):
        c = self.config
        token = _text(self._call("GET", "/cgi-bin/gettoken", params={
            "corpid": c["WECOM_CORP_ID"], "corpsecret": c["WECOM_SECRET"]}).get("access_token"), 512)
        if not token:
            raise ProviderError("WeCom gettoken: no access_token")
        who = self._call("GET", "/cgi-bin/auth/getuserinfo", params={"access_token": token, "code": code})
        userid = _text(who.get("userid") or who.get("UserId"))
        if not userid:
            raise ProviderError("WeCom: not a member of this company (no userid)")
        user = self._call("GET", "/cgi-bin/user/get", params={"access_token": token, "userid": userid})
        mobile = _text(user.get("mobile"), 32)
        ticket = _text(who.get("user_ticket"), 512)
        if not mobile and ticket:
            # Since 2022 the mobile number is given only with the member's consent (user_ticket).
            detail = self._call("POST", "/cgi-bin/auth/getuserdetail", params={"access_token": token},
                                json={"user_ticket": ticket})
            mobile = _text(detail.get("mobile"), 32)
        return Profile(subject=userid, name=_text(user.get("name"), 80), mobile=mobile)

    def public_settings(self):
        c = self.config
        return [("WECOM_CORP_ID", c.get("WECOM_CORP_ID")), ("WECOM_AGENT_ID", c.get("WECOM_AGENT_ID")),
                ("WECOM_API_BASE", c.get("WECOM_API_BASE")), ("WECOM_LOGIN_BASE", c.get("WECOM_LOGIN_BASE")),
                ("WECOM_OAUTH_BASE", c.get("WECOM_OAUTH_BASE"))]


# ---- DingTalk 钉钉 ----------------------------------------------------------------------------------

class DingTalkProvider(Provider):
    key = "dingtalk"
    label = _l("Sign in with DingTalk")
    user_agents = ("dingtalk",)
    qr_hint = _l("Scan the QR code with DingTalk on your phone.")

    def authorize_url(self, redirect_uri, stash, in_app):
        # The same page serves both: on the desk it shows a QR code; inside DingTalk it passes the
        # signed-in member straight back (免登) without a click.
        c = self.config
        query = urlencode({"redirect_uri": redirect_uri, "response_type": "code", "client_id": c["DINGTALK_CLIENT_ID"],
                           "scope": "openid", "state": stash.state, "prompt": "consent"})
        return f"{c['DINGTALK_LOGIN_BASE'].rstrip('/')}/oauth2/auth?{query}"

    def _check(self, data, what):
        if data["_status"] != 200 or ("code" in data and "message" in data):
            raise ProviderError(f"DingTalk {what}: {_text(data.get('code'), 80)} {_text(data.get('message'), 120)}")
        return data

    def fetch_profile(self, code, redirect_uri, stash):
        c = self.config
        base = c["DINGTALK_API_BASE"].rstrip("/")
        token = self._check(_http("POST", base + "/v1.0/oauth2/userAccessToken", json={
            "clientId": c["DINGTALK_CLIENT_ID"], "clientSecret": c["DINGTALK_CLIENT_SECRET"], "code": code,
            "grantType": "authorization_code"}), "userAccessToken")
        access = _text(token.get("accessToken"), 512)
        if not access:
            raise ProviderError("DingTalk userAccessToken: no accessToken")
        me = self._check(_http("GET", base + "/v1.0/contact/users/me",
                               headers={"x-acs-dingtalk-access-token": access}), "users/me")
        subject = _text(me.get("unionId"))
        if not subject:
            raise ProviderError("DingTalk users/me: no unionId")
        mobile = _text(me.get("mobile"), 32)
        if mobile and me.get("stateCode") and str(me["stateCode"]) not in ("86", "+86"):
            mobile = f"+{str(me['stateCode']).lstrip('+')}{mobile}"
        return Profile(subject=subject, name=_text(me.get("nick"), 80), mobile=mobile,
                       email=None)

    def public_settings(self):
        c = self.config
        return [("DINGTALK_CLIENT_ID", c.get("DINGTALK_CLIENT_ID")), ("DINGTALK_API_BASE", c.get("DINGTALK_API_BASE")),
                ("DINGTALK_LOGIN_BASE", c.get("DINGTALK_LOGIN_BASE"))]


# ---- Feishu 飞书 ------------------------------------------------------------------------------------

class FeishuProvider(Provider):
    key = "feishu"
    label = _l("Sign in with Feishu")
    user_agents = ("lark", "feishu")
    qr_hint = _l("Scan the QR code with Feishu on your phone.")

    def authorize_url(self, redirect_uri, stash, in_app):
        # One page for both: a QR code on the desk, an immediate return inside Feishu (免确认).
        c = self.config
        query = urlencode({"client_id": c["FEISHU_APP_ID"], "redirect_uri": redirect_uri, "response_type": "code",
                           "state": stash.state})
        return f"{c['FEISHU_LOGIN_BASE'].rstrip('/')}/open-apis/authen/v1/authorize?{query}"

    def _check(self, data, what):
        if data["_status"] != 200 or data.get("code") not in (0, None):
            detail = data.get("msg") or data.get("error_description") or data.get("error")
            raise ProviderError(f"Feishu {what}: code {_text(data.get('code'), 40)} {_text(detail, 120)}")
        return data

    def fetch_profile(self, code, redirect_uri, stash):
        c = self.config
        base = c["FEISHU_API_BASE"].rstrip("/")
        token = self._check(_http("POST", base + "/open-apis/authen/v2/oauth/token", json={
            "grant_type": "authorization_code", "client_id": c["FEISHU_APP_ID"], "client_secret": c["FEISHU_APP_SECRET"],
            "code": code, "redirect_uri": redirect_uri}), "oauth/token")
        access = _text(token.get("access_token"), 2048)
        if not access:
            raise ProviderError("Feishu oauth/token: no access_token")
        info = self._check(_http("GET", base + "/open-apis/authen/v1/user_info",
                                 headers={"Authorization": f"Bearer {access}"}), "user_info")
        data = info.get("data") if isinstance(info.get("data"), dict) else {}
        subject = _text(data.get("union_id")) or _text(data.get("open_id"))
        if not subject:
            raise ProviderError("Feishu user_info: no union_id")
        email = _text(data.get("enterprise_email"), 200)
        return Profile(subject=subject, name=_text(data.get("name"), 80), mobile=_text(data.get("mobile"), 32),
                       email=email)

    def public_settings(self):
        c = self.config
        return [("FEISHU_APP_ID", c.get("FEISHU_APP_ID")), ("FEISHU_API_BASE", c.get("FEISHU_API_BASE")),
                ("FEISHU_LOGIN_BASE", c.get("FEISHU_LOGIN_BASE"))]


PROVIDERS = {"oidc": OIDCProvider, "wecom": WeComProvider, "dingtalk": DingTalkProvider, "feishu": FeishuProvider}
REQUIRED = {
    "oidc": ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"),
    "wecom": ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET"),
    "dingtalk": ("DINGTALK_CLIENT_ID", "DINGTALK_CLIENT_SECRET"),
    "feishu": ("FEISHU_APP_ID", "FEISHU_APP_SECRET"),
}
NAMES = {"oidc": _l("OpenID Connect"), "wecom": _l("WeCom"), "dingtalk": _l("DingTalk"), "feishu": _l("Feishu")}


def is_configured(key: str, config=None) -> bool:
    config = config if config is not None else current_app.config
    return key in REQUIRED and all(config.get(name) for name in REQUIRED[key])


def get_provider(key: str) -> Provider | None:
    """The provider for `key` when it is configured, else None."""
    if not is_configured(key):
        return None
    return PROVIDERS[key](current_app.config)


def configured_providers() -> list[Provider]:
    return [PROVIDERS[k](current_app.config) for k in PROVIDERS if is_configured(k)]
