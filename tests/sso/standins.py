"""Local stand-ins for WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书): one real HTTP server in a
thread on a free 127.0.0.1 port, implementing the documented endpoints our sign-in calls, with their
success and error payload shapes. They are not the real services (docs/sign-in.md says so).

A test registers people with `members` ({code: person}) and may force an error with `fail`.
Each stand-in also serves the provider's authorize page: it answers with a redirect to the
redirect_uri with a code (the member chosen by ?member= or the stand-in's `default_member`) and the
state, as the real page does after a scan or inside the app.
"""

import json
import threading
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def _json(data, status=200):
    return Response(json.dumps(data, ensure_ascii=False), status=status, content_type="application/json")


class StandIns:
    def __init__(self):
        # code → {"userid"/"unionId"/...: ..., "mobile": ..., "name": ...}
        self.members: dict[str, dict] = {}
        self.default_member = None
        self.fail: dict[str, dict] = {}  # endpoint name → error payload (status, body)
        self.calls: list[tuple[str, dict]] = []
        self.slow: set[str] = set()
        self.tokens: dict[str, str] = {}  # access token → code
        self.url_map = Map([
            # WeCom
            Rule("/wwlogin/sso/login", endpoint="wecom_qr"),
            Rule("/connect/oauth2/authorize", endpoint="wecom_inapp"),
            Rule("/cgi-bin/gettoken", endpoint="wecom_gettoken"),
            Rule("/cgi-bin/auth/getuserinfo", endpoint="wecom_getuserinfo"),
            Rule("/cgi-bin/user/get", endpoint="wecom_user_get"),
            Rule("/cgi-bin/auth/getuserdetail", endpoint="wecom_getuserdetail", methods=["POST"]),
            # DingTalk
            Rule("/oauth2/auth", endpoint="dingtalk_auth"),
            Rule("/v1.0/oauth2/userAccessToken", endpoint="dingtalk_token", methods=["POST"]),
            Rule("/v1.0/contact/users/me", endpoint="dingtalk_me"),
            # Feishu
            Rule("/open-apis/authen/v1/authorize", endpoint="feishu_authorize"),
            Rule("/open-apis/authen/v2/oauth/token", endpoint="feishu_token", methods=["POST"]),
            Rule("/open-apis/authen/v1/user_info", endpoint="feishu_user_info"),
        ])
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True, request_handler=_Quiet)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # ---- plumbing ------------------------------------------------------------------------------

    def wsgi(self, environ, start_response):
        request = Request(environ)
        try:
            endpoint, _args = self.url_map.bind_to_environ(environ).match()
        except HTTPException as e:
            return e(environ, start_response)
        body = request.get_json(silent=True) if request.method == "POST" else None
        self.calls.append((endpoint, {"args": dict(request.args), "json": body,
                                      "headers": {k.lower(): v for k, v in request.headers.items()}}))
        if endpoint in self.slow:
            threading.Event().wait(3)
        if endpoint in self.fail:
            status, payload = self.fail[endpoint]
            return _json(payload, status)(environ, start_response)
        return getattr(self, endpoint)(request, body)(environ, start_response)

    def _authorize(self, request, code_param="code"):
        member = request.args.get("member") or self.default_member
        query = {"state": request.args.get("state", "")}
        if member:
            query[code_param] = member
        uri = request.args["redirect_uri"]
        return Response(status=302, headers={"Location": f"{uri}?{urlencode(query)}"})

    def _issue(self, code):
        token = f"tok-{code}-{len(self.tokens)}"
        self.tokens[token] = code
        return token

    # ---- WeCom: https://developer.work.weixin.qq.com/document/path/91019 ff. -----------------------

    def wecom_qr(self, request, _body):
        return self._authorize(request)

    def wecom_inapp(self, request, _body):
        return self._authorize(request)

    def wecom_gettoken(self, request, _body):
        if request.args.get("corpsecret") != "wecom-secret" or request.args.get("corpid") != "ww-corp":
            return _json({"errcode": 40001, "errmsg": "invalid credential"})
        return _json({"errcode": 0, "errmsg": "ok", "access_token": "wecom-app-token", "expires_in": 7200})

    def wecom_getuserinfo(self, request, _body):
        if request.args.get("access_token") != "wecom-app-token":
            return _json({"errcode": 40014, "errmsg": "invalid access_token"})
        person = self.members.get(request.args.get("code", ""))
        if person is None:
            return _json({"errcode": 40029, "errmsg": "invalid code"})
        out = {"errcode": 0, "errmsg": "ok", "userid": person["userid"]}
        if person.get("ticket_mobile"):
            out["user_ticket"] = "ticket-" + person["userid"]
        return _json(out)

    def wecom_user_get(self, request, _body):
        for person in self.members.values():
            if person.get("userid") == request.args.get("userid"):
                out = {"errcode": 0, "errmsg": "ok", "userid": person["userid"], "name": person.get("name")}
                if person.get("mobile"):
                    out["mobile"] = person["mobile"]
                return _json(out)
        return _json({"errcode": 60111, "errmsg": "userid not found"})

    def wecom_getuserdetail(self, request, body):
        ticket = (body or {}).get("user_ticket", "")
        for person in self.members.values():
            if ticket == "ticket-" + str(person.get("userid")):
                return _json({"errcode": 0, "errmsg": "ok", "userid": person["userid"],
                              "mobile": person["ticket_mobile"]})
        return _json({"errcode": 40029, "errmsg": "invalid user_ticket"})

    # ---- DingTalk: https://open.dingtalk.com/document/orgapp/obtain-identity-credentials ----------------

    def dingtalk_auth(self, request, _body):
        return self._authorize(request, code_param="authCode")

    def dingtalk_token(self, request, body):
        body = body or {}
        if body.get("clientSecret") != "ding-secret" or body.get("grantType") != "authorization_code":
            return _json({"code": "InvalidAuthentication", "message": "clientSecret invalid",
                          "requestid": "req-1"}, 400)
        if body.get("code") not in self.members:
            return _json({"code": "invalidAuthCode", "message": "auth code invalid", "requestid": "req-2"}, 400)
        return _json({"accessToken": self._issue(body["code"]), "refreshToken": "r", "expireIn": 7200,
                      "corpId": "ding-corp"})

    def dingtalk_me(self, request, _body):
        code = self.tokens.get(request.headers.get("x-acs-dingtalk-access-token", ""))
        if code is None:
            return _json({"code": "InvalidAuthentication", "message": "token invalid", "requestid": "req-3"}, 401)
        person = self.members[code]
        return _json({"nick": person.get("name"), "unionId": person["unionId"], "openId": "open-" + person["unionId"],
                      "mobile": person.get("mobile"), "stateCode": person.get("stateCode", "86")})

    # ---- Feishu: https://open.feishu.cn/document/common-capabilities/sso/web-application-sso ------------

    def feishu_authorize(self, request, _body):
        return self._authorize(request)

    def feishu_token(self, request, body):
        body = body or {}
        if body.get("client_secret") != "feishu-secret":
            return _json({"code": 20002, "error": "invalid_client", "error_description": "client secret invalid"}, 400)
        if body.get("code") not in self.members or not body.get("redirect_uri"):
            return _json({"code": 20003, "error": "invalid_grant", "error_description": "authorization code invalid"},
                         400)
        return _json({"code": 0, "access_token": self._issue(body["code"]), "expires_in": 7200,
                      "token_type": "Bearer", "scope": ""})

    def feishu_user_info(self, request, _body):
        auth = request.headers.get("Authorization", "")
        code = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if code is None:
            return _json({"code": 99991668, "msg": "Invalid access token for authorization."}, 401)
        person = self.members[code]
        return _json({"code": 0, "msg": "success", "data": {
            "name": person.get("name"), "open_id": "ou_" + person["union_id"], "union_id": person["union_id"],
            "mobile": person.get("mobile"), "tenant_key": "tenant"}})
