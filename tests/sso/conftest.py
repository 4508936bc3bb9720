"""Fixtures for single sign-on: the stand-ins for WeCom, DingTalk and Feishu (tests/sso/standins.py)
and the app configured to use them."""

import pytest
from sqlalchemy import select

from tests.sso.standins import StandIns
from webapp.auth.models import UserSession
from webapp.extensions import db


@pytest.fixture
def standins():
    servers = StandIns().start()
    yield servers
    servers.stop()


@pytest.fixture
def app_config(standins):
    return {
        "WECOM_CORP_ID": "ww-corp", "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "wecom-secret",
        "WECOM_API_BASE": standins.base, "WECOM_LOGIN_BASE": standins.base, "WECOM_OAUTH_BASE": standins.base,
        "DINGTALK_CLIENT_ID": "ding-client", "DINGTALK_CLIENT_SECRET": "ding-secret",
        "DINGTALK_API_BASE": standins.base, "DINGTALK_LOGIN_BASE": standins.base,
        "FEISHU_APP_ID": "cli_feishu", "FEISHU_APP_SECRET": "feishu-secret",
        "FEISHU_API_BASE": standins.base, "FEISHU_LOGIN_BASE": standins.base,
        "SSO_HTTP_TIMEOUT": 2,
    }


def live_sessions(user):
    db.session.expire_all()
    return list(db.session.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                             UserSession.ended_at.is_(None))))
