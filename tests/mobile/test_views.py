import json
import re

import pytest

from webapp.mobile.strings import STRINGS
from webapp.mobile.views import SHELL_STATIC


def _boot(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="boot">(.*?)</script>', page, re.S)
    return json.loads(m.group(1))


def test_the_app_needs_a_sign_in(client):
    r = client.get("/m/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


@pytest.mark.parametrize("path", ["/m/", "/m/visit/abc/checklist", "/m/finding/xyz"])
def test_every_app_route_serves_the_same_shell(client, auth, world, path):
    auth.login("sup1")
    r = client.get(path)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert 'src="/static/js/app/main.js"' in page and 'type="module"' in page
    assert "<script>" not in page  # the CSP allows no inline script; the JSON block is data
    assert 'data-csrf="' in page
    assert _boot(page)["user"]["username"] == "sup1"


@pytest.mark.parametrize(("lang", "word"), [("zh-CN", "立即同步"), ("en", "Sync now")])
def test_the_app_strings_come_in_the_users_language(client, auth, world, lang, word):
    auth.login("sup1")
    page = client.get("/m/", headers={"Accept-Language": lang}).get_data(as_text=True)
    boot = _boot(page)
    assert boot["s"]["sync_now"] == word
    assert set(boot["s"]) == set(STRINGS)
    assert set(boot["enums"]["area"]) == {"process", "service", "efficiency", "risk", "teamwork"}


def test_boot_json_cannot_close_its_script_tag(client, auth, world):
    from webapp.extensions import db

    world["users"]["sup1"].display_name = "</script><script>alert(1)</script>"
    db.session.commit()
    auth.login("sup1")
    page = client.get("/m/").get_data(as_text=True)
    block = re.search(r'id="boot">(.*?)</script>', page, re.S).group(1)
    assert "<" not in block
    assert _boot(page)["user"]["name"] == "</script><script>alert(1)</script>"


def test_session_probe_gives_a_fresh_csrf_token(client, auth, world):
    assert client.get("/m/session.json").status_code == 401
    auth.login("sup1")
    body = client.get("/m/session.json").get_json()
    assert body["user"]["username"] == "sup1" and body["csrf_token"] and body["version"]


def test_service_worker_is_served_from_the_root_with_its_shell_list(client):
    r = client.get("/sw.js")
    assert r.status_code == 200
    assert r.headers["Service-Worker-Allowed"] == "/"
    assert r.headers["Cache-Control"] == "no-cache"
    assert r.mimetype == "text/javascript"
    body = r.get_data(as_text=True)
    assert "__VERSION__" not in body and "__SHELL__" not in body
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", body).group(1))
    assert "/m/" in shell
    assert all(f"/static/{f}" in shell for f in SHELL_STATIC)


def test_every_shell_file_exists(client):
    for f in SHELL_STATIC:
        r = client.get(f"/static/{f}")
        r.close()
        assert r.status_code == 200, f


def test_phone_manifest_is_installable(client):
    r = client.get("/static/manifest-phone.webmanifest")
    m = r.get_json(force=True)
    r.close()
    assert m["display"] == "standalone" and m["start_url"] == "/m/"
    assert any(i.get("purpose") == "maskable" for i in m["icons"])
    assert {"192x192", "512x512"} <= {i["sizes"] for i in m["icons"]}


def test_supervisor_home_links_the_app(client, auth, world):
    auth.login("sup1")
    assert 'href="/m/"' in client.get("/").get_data(as_text=True)
