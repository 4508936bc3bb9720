import importlib.util
from pathlib import Path

import pytest

from tests.conftest import csrf_from
from webapp.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def test_catalogs_are_complete():
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "tools" / "i18n.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.problems() == []


@pytest.mark.parametrize(("header", "expected"), [
    ("zh-CN,zh;q=0.9", "运营督导系统"),
    ("en-US,en;q=0.9", "Operations Supervision"),
    ("fr-FR", "运营督导系统"),  # Chinese companies first
    ("", "运营督导系统"),
])
def test_locale_from_accept_language(client, header, expected):
    page = client.get("/login", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f"<h1>{expected}</h1>" in page


def test_user_setting_wins_and_switch_persists(client, auth, create_user):
    user = create_user("zhang", locale="en")
    auth.login("zhang")
    page = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Sign out" in page
    client.post("/locale", data={"locale": "zh_CN", "csrf_token": csrf_from(page)})
    db.session.refresh(user)
    assert user.locale == "zh_CN"
    assert "退出" in client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_domain_terms_in_chinese(client, auth, world):
    auth.login("manager")
    page = client.get(f"/findings/{world['findings'][0].id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    for term in ("表现形式", "影响范围", "责任部门", "责任人", "业务流程规范", "一般"):
        assert term in page
