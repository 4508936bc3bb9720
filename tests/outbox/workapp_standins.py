"""Local stand-ins for the work apps' messaging endpoints: WeCom (企业微信) group robot and
application messages, DingTalk (钉钉) custom robot and work notifications, Feishu (飞书) custom bot
and IM messages. One real HTTP server in a thread on a free 127.0.0.1 port, with the documented
request shapes, signature checks and errcode/code answers. They are not the real services
(docs/messages.md says so).

`fail` = {endpoint name: [answer, ...]} answers the next calls with those payloads (HTTP 200, an
errcode/code ≠ 0), one per call, then normally again. `received` holds what each endpoint accepted.
"""

import base64
import hashlib
import hmac
import json
import threading
import time

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

ROBOT_KEY = "robot-key"
DINGTALK_ROBOT_TOKEN = "ding-robot-token"
FEISHU_HOOK = "feishu-hook-id"
DINGTALK_SECRET = "SECding-robot-secret"
FEISHU_SECRET = "feishu-bot-secret"


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def _json(data, status=200):
    return Response(json.dumps(data, ensure_ascii=False), status=status, content_type="application/json")


class WorkAppStandIns:
    def __init__(self):
        self.fail: dict[str, list[dict]] = {}
        self.calls: list[tuple[str, dict]] = []
        self.received: dict[str, list] = {}
        self.dingtalk_users = {}  # unionId → userid
        self.url_map = Map([
            Rule("/cgi-bin/webhook/send", endpoint="wecom_robot", methods=["POST"]),
            Rule("/cgi-bin/gettoken", endpoint="wecom_gettoken"),
            Rule("/cgi-bin/message/send", endpoint="wecom_message", methods=["POST"]),
            Rule("/robot/send", endpoint="dingtalk_robot", methods=["POST"]),
            Rule("/gettoken", endpoint="dingtalk_gettoken"),
            Rule("/topapi/user/getbyunionid", endpoint="dingtalk_getbyunionid", methods=["POST"]),
            Rule("/topapi/message/corpconversation/asyncsend_v2", endpoint="dingtalk_message", methods=["POST"]),
            Rule("/open-apis/bot/v2/hook/<hook>", endpoint="feishu_bot", methods=["POST"]),
            Rule("/open-apis/auth/v3/tenant_access_token/internal", endpoint="feishu_token", methods=["POST"]),
            Rule("/open-apis/im/v1/messages", endpoint="feishu_message", methods=["POST"]),
        ])
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True, request_handler=_Quiet)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.feishu_uuids: set[str] = set()

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def wsgi(self, environ, start_response):
        request = Request(environ)
        try:
            endpoint, args = self.url_map.bind_to_environ(environ).match()
        except HTTPException as e:
            return e(environ, start_response)
        body = request.get_json(silent=True) if request.method == "POST" else None
        self.calls.append((endpoint, {"args": dict(request.args), "json": body, "raw_query": request.query_string}))
        queued = self.fail.get(endpoint)
        if queued:
            return _json(queued.pop(0))(environ, start_response)
        return getattr(self, endpoint)(request, body, **args)(environ, start_response)

    def _accept(self, endpoint, body):
        self.received.setdefault(endpoint, []).append(body)

    # ---- WeCom: https://developer.work.weixin.qq.com/document/path/91770 and /90236 --------------------

    def wecom_robot(self, request, body):
        if request.args.get("key") != ROBOT_KEY:
            return _json({"errcode": 93000, "errmsg": "invalid webhook url"})
        if not body or body.get("msgtype") not in ("markdown", "template_card", "news", "text"):
            return _json({"errcode": 40008, "errmsg": "invalid message type"})
        self._accept("wecom_robot", body)
        return _json({"errcode": 0, "errmsg": "ok"})

    def wecom_gettoken(self, request, _body):
        if request.args.get("corpsecret") != "wecom-secret" or request.args.get("corpid") != "ww-corp":
            return _json({"errcode": 40001, "errmsg": "invalid credential"})
        return _json({"errcode": 0, "errmsg": "ok", "access_token": "wecom-app-token", "expires_in": 7200})

    def wecom_message(self, request, body):
        if request.args.get("access_token") != "wecom-app-token":
            return _json({"errcode": 40014, "errmsg": "invalid access_token"})
        card = (body or {}).get("textcard") or {}
        if body.get("msgtype") != "textcard" or not all(card.get(k) for k in ("title", "description", "url")):
            return _json({"errcode": 40008, "errmsg": "invalid message type"})
        if str(body.get("agentid")) != "1000002":
            return _json({"errcode": 40056, "errmsg": "invalid agentid"})
        self._accept("wecom_message", body)
        return _json({"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": f"msg{len(self.calls)}"})

    # ---- DingTalk: https://open.dingtalk.com/document/robots/custom-robot-access -------------------------

    def dingtalk_robot(self, request, body):
        if request.args.get("access_token") != DINGTALK_ROBOT_TOKEN:
            return _json({"errcode": 300001, "errmsg": "token is not exist"})
        timestamp, sign = request.args.get("timestamp", ""), request.args.get("sign", "")
        mac = hmac.new(DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256)
        expected = base64.b64encode(mac.digest()).decode()
        if not timestamp or abs(time.time() * 1000 - int(timestamp)) > 3600_000 or sign != expected:
            return _json({"errcode": 310000, "errmsg": "sign not match"})
        if not body or body.get("msgtype") not in ("actionCard", "markdown", "text"):
            return _json({"errcode": 40035, "errmsg": "缺少参数 json"})
        self._accept("dingtalk_robot", body)
        return _json({"errcode": 0, "errmsg": "ok"})

    def dingtalk_gettoken(self, request, _body):
        if request.args.get("appsecret") != "ding-secret":
            return _json({"errcode": 40089, "errmsg": "invalid appkey or appsecret"})
        return _json({"errcode": 0, "errmsg": "ok", "access_token": "ding-app-token", "expires_in": 7200})

    def dingtalk_getbyunionid(self, request, body):
        userid = self.dingtalk_users.get((body or {}).get("unionid"))
        if userid is None:
            return _json({"errcode": 60121, "errmsg": "找不到该用户"})
        return _json({"errcode": 0, "errmsg": "ok", "result": {"contact_type": 0, "userid": userid}})

    def dingtalk_message(self, request, body):
        if request.args.get("access_token") != "ding-app-token":
            return _json({"errcode": 88, "errmsg": "不合法的access_token"})
        if not body or body.get("msg", {}).get("msgtype") != "action_card" or not body.get("userid_list"):
            return _json({"errcode": 40035, "errmsg": "缺少参数"})
        self._accept("dingtalk_message", body)
        return _json({"errcode": 0, "errmsg": "ok", "task_id": len(self.calls), "request_id": "r"})

    # ---- Feishu: https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot ----------------------

    def feishu_bot(self, request, body, hook):
        if hook != FEISHU_HOOK:
            return _json({"code": 19001, "msg": "param invalid: incoming webhook access token invalid"})
        body = body or {}
        timestamp = str(body.get("timestamp", ""))
        mac = hmac.new(f"{timestamp}\n{FEISHU_SECRET}".encode(), b"", hashlib.sha256)
        if not timestamp or abs(time.time() - int(timestamp)) > 3600 or \
                body.get("sign") != base64.b64encode(mac.digest()).decode():
            return _json({"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"})
        if body.get("msg_type") != "interactive" or not isinstance(body.get("card"), dict):
            return _json({"code": 9499, "msg": "Bad Request"})
        self._accept("feishu_bot", body)
        return _json({"code": 0, "msg": "success", "data": {}})

    def feishu_token(self, request, body):
        if (body or {}).get("app_secret") != "feishu-secret":
            return _json({"code": 10014, "msg": "app secret invalid"})
        return _json({"code": 0, "msg": "ok", "tenant_access_token": "t-feishu", "expire": 7200})

    def feishu_message(self, request, body):
        if request.headers.get("Authorization") != "Bearer t-feishu":
            return _json({"code": 99991663, "msg": "Invalid access token for authorization."})
        if request.args.get("receive_id_type") not in ("open_id", "user_id", "union_id"):
            return _json({"code": 230001, "msg": "invalid receive_id_type"})
        body = body or {}
        json.loads(body.get("content") or "null")
        if body.get("uuid") in self.feishu_uuids:  # the same uuid within an hour: sent only once
            return _json({"code": 0, "msg": "success", "data": {"message_id": "om_dup"}})
        self.feishu_uuids.add(body.get("uuid"))
        self._accept("feishu_message", body)
        return _json({"code": 0, "msg": "success", "data": {"message_id": f"om_{len(self.calls)}"}})


def robot_urls(base: str) -> dict:
    return {"wecom": f"{base}/cgi-bin/webhook/send?key={ROBOT_KEY}",
            "dingtalk": f"{base}/robot/send?access_token={DINGTALK_ROBOT_TOKEN}",
            "feishu": f"{base}/open-apis/bot/v2/hook/{FEISHU_HOOK}"}
