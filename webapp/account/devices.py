"""A readable name for a device from its User-Agent header ("Chrome on Android", "WeCom on iPhone").
Simple on purpose: the first app or browser found, and the system; anything else is "Unknown browser"."""

import re

from flask_babel import gettext as _

# Apps first (their user agents also name the browser engine), then browsers, the most specific first.
APPS = (
    ("wxwork/", "WeCom"),
    ("micromessenger/", "WeChat"),
    ("dingtalk", "DingTalk"),
    ("lark/", "Feishu"),
    ("feishu", "Feishu"),
    ("edg/", "Edge"),
    ("edga/", "Edge"),
    ("edgios/", "Edge"),
    ("opr/", "Opera"),
    ("samsungbrowser/", "Samsung Internet"),
    ("ucbrowser/", "UC Browser"),
    ("mqqbrowser/", "QQ Browser"),
    ("qqbrowser/", "QQ Browser"),
    ("huaweibrowser/", "Huawei Browser"),
    ("miuibrowser/", "Xiaomi Browser"),
    ("firefox/", "Firefox"),
    ("fxios/", "Firefox"),
    ("crios/", "Chrome"),
    ("chrome/", "Chrome"),
    ("chromium/", "Chromium"),
    ("safari/", "Safari"),
    ("python-requests", "Script"),
    ("curl/", "Script"),
)
SYSTEMS = (
    ("iphone", "iPhone"),
    ("ipad", "iPad"),
    ("harmonyos", "HarmonyOS"),
    ("openharmony", "HarmonyOS"),
    ("android", "Android"),
    ("windows", "Windows"),
    ("cros", "ChromeOS"),
    ("mac os x", "macOS"),
    ("macintosh", "macOS"),
    ("linux", "Linux"),
)


def describe_device(user_agent: str | None) -> str:
    ua = (user_agent or "").lower()
    app = next((name for key, name in APPS if key in ua), None)
    system = next((name for key, name in SYSTEMS if re.search(re.escape(key), ua)), None)
    if app and system:
        return _("%(app)s on %(system)s", app=app, system=system)
    if app or system:
        return app or system
    return _("Unknown browser")
