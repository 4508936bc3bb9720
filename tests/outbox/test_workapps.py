"""Work-app channels against local stand-ins of WeCom, DingTalk and Feishu (tests/outbox/workapp_standins.py):
a report approval gives one card to the linked author and one message per subscribed group robot,
signed where the robot asks for it, delivered once per idempotency key even after an errcode ≠ 0;
a user with no linked account is skipped; permanent codes fail at once; /admin/channels robots."""

import re

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from
from tests.outbox.workapp_standins import DINGTALK_SECRET, FEISHU_SECRET, WorkAppStandIns, robot_urls
from webapp.audit.models import AuditEntry
from webapp.auth.models import UserIdentity
from webapp.extensions import db
from webapp.outbox import operations as outbox
from webapp.outbox.models import OutboxMessage, WorkAppRobot
from webapp.outbox.workapps import decrypt_secret, encrypt_secret
from webapp.reports import operations as report_ops

OTHERS = ("manager", "sup1", "head1", "staff1")


@pytest.fixture
def standins(app):
    s = WorkAppStandIns().start()
    app.config.update(WECOM_CORP_ID="ww-corp", WECOM_SECRET="wecom-secret", WECOM_AGENT_ID="1000002",
                      WECOM_API_BASE=s.base, PUBLIC_URL="https://supervision.example.cn")
    yield s
    s.stop()


def _robot(app, kind, secret="", events=("report.approved",), **kw):
    robot = WorkAppRobot(kind=kind, name=f"{kind} 群", url=kw.get("url") or robot_urls(app.config["WECOM_API_BASE"])[kind],
                         events=list(events), active=True,
                         secret_encrypted=encrypt_secret(secret, app.config["SECRET_KEY"]) or None)
    db.session.add(robot)
    db.session.commit()
    return robot


def _approve(world):
    u = world["users"]
    report = report_ops.create_report(world["visits"][0], u["sup1"])
    report_ops.submit_report(report, u["sup1"])
    report_ops.review_report(report, u["manager"], "approve")
    db.session.commit()
    return report


def _rows(channel):
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == channel)
                                   .order_by(OutboxMessage.id)))


def _deliver_until_quiet(pinned_clock, rounds=4):
    from datetime import timedelta

    for _ in range(rounds):
        outbox.deliver_due()
        pinned_clock.shift(timedelta(hours=2))  # past any backoff


def test_report_approval_card_to_linked_author_and_robots_once_each(app, world, standins, pinned_clock):
    sup = world["users"]["sup1"]
    sup.locale = "zh_CN"
    db.session.add(UserIdentity(user_id=sup.id, provider="wecom", subject="zhangsan"))
    db.session.commit()
    wecom = _robot(app, "wecom")
    ding = _robot(app, "dingtalk", DINGTALK_SECRET)
    feishu = _robot(app, "feishu", FEISHU_SECRET)
    _robot(app, "wecom", events=("finding.recorded",))  # not subscribed to report.approved
    # Each endpoint first answers errcode ≠ 0 (a rate limit: retried), then ok.
    standins.fail = {"wecom_message": [{"errcode": 45009, "errmsg": "api freq out of limit"}],
                     "wecom_robot": [{"errcode": 45009, "errmsg": "api freq out of limit"}],
                     "dingtalk_robot": [{"errcode": 130101, "errmsg": "send too fast"}],
                     "feishu_bot": [{"code": 11232, "msg": "frequency limited"}]}
    report = _approve(world)

    (person,) = [m for m in _rows("workapp") if m.status != "skipped"]
    assert person.event == "notification.report_approved" and person.recipient == sup.id and person.payload["userid"] == "zhangsan"
    robots = _rows("robot")
    assert sorted(m.recipient for m in robots) == sorted([wecom.id, ding.id, feishu.id])
    first = outbox.deliver_due()
    assert first.retrying == 4 and first.sent == 0
    db.session.refresh(person)
    errors = [m.last_error for m in _rows("robot") + [person]]
    assert all("answered code" in e for e in errors)
    _deliver_until_quiet(pinned_clock)

    assert {m.status for m in _rows("robot") + _rows("workapp")} == {"sent", "skipped"}
    (card,) = standins.received["wecom_message"]
    assert card["touser"] == "zhangsan" and card["agentid"] == 1000002 and card["msgtype"] == "textcard"
    assert card["textcard"]["url"] == f"https://supervision.example.cn/go/report/{report.id}"
    assert "督导报告已批准" in card["textcard"]["description"] or report.title in card["textcard"]["description"]
    assert len(standins.received["wecom_robot"]) == 1 and len(standins.received["dingtalk_robot"]) == 1
    (fs,) = standins.received["feishu_bot"]
    assert fs["msg_type"] == "interactive" and fs["card"]["elements"][1]["actions"][0]["url"].endswith(report.id)
    dt = standins.received["dingtalk_robot"][0]
    assert dt["msgtype"] == "actionCard" and report.title in dt["actionCard"]["text"]
    # Nothing more is sent, however often the worker runs.
    before = len(standins.calls)
    _deliver_until_quiet(pinned_clock, 2)
    assert len(standins.calls) == before


def test_robot_cards_link_through_go_and_carry_a_short_form_of_their_key(app, world, standins, pinned_clock):
    """A group's card opens /go/report/<id> (the phone app on a phone, as a person's card does), and
    its text ends with "— #a1b2c3", the same on every try: robots cannot drop a repeat, a reader can."""
    from webapp.outbox.workapps import short_ref

    wecom, ding, feishu = _robot(app, "wecom"), _robot(app, "dingtalk", DINGTALK_SECRET), _robot(app, "feishu", FEISHU_SECRET)
    standins.fail = {"wecom_robot": [{"errcode": 45009, "errmsg": "api freq out of limit"}]}
    report = _approve(world)
    _deliver_until_quiet(pinned_clock)
    go = f"https://supervision.example.cn/go/report/{report.id}"
    refs = {m.recipient: short_ref(m.idempotency_key) for m in _rows("robot")}
    assert len(set(refs.values())) == 3 and all(re.fullmatch(r"#[0-9a-f]{6}", r) for r in refs.values())
    tries = [c[1]["json"]["markdown"]["content"] for c in standins.calls if c[0] == "wecom_robot"]
    assert len(tries) == 2 and tries[0] == tries[1]  # the failed try and the good one: the same text
    assert f"]({go})" in tries[1] and f"\n\n— {refs[wecom.id]}\n" in tries[1]
    (dt,) = standins.received["dingtalk_robot"]
    assert dt["actionCard"]["singleURL"] == go and dt["actionCard"]["text"].endswith(f"— {refs[ding.id]}")
    (fs,) = standins.received["feishu_bot"]
    assert fs["card"]["elements"][1]["actions"][0]["url"] == go
    assert fs["card"]["elements"][0]["text"]["content"].endswith(f"— {refs[feishu.id]}")
    assert short_ref("report.approved:x:robot:1") == short_ref("report.approved:x:robot:1")


def test_a_warning_card_keeps_its_list_link(app):
    from webapp.outbox.workapps import event_card

    app.config["PUBLIC_URL"] = "https://supervision.example.cn"
    card = event_card("warning.raised", {"warning": {"message": "逾期", "link": "https://supervision.example.cn/results/warnings/"}})
    assert card["url"] == "https://supervision.example.cn/results/warnings/"  # no /go/ kind for a list


def test_user_without_identity_is_skipped_not_failed(app, world, standins):
    _approve(world)
    rows = _rows("workapp")
    assert {m.event for m in rows} == {"notification.report_to_approve", "notification.report_approved"}
    assert all(m.status == "skipped" and "no linked wecom account" in m.last_error for m in rows)
    assert outbox.deliver_due().claimed == 0
    assert "wecom_message" not in standins.received


def test_permanent_codes_fail_at_once(app, world, standins):
    bad = _robot(app, "wecom", url=standins.base + "/cgi-bin/webhook/send?key=wrong")
    _approve(world)
    stats = outbox.deliver_due()
    db.session.rollback()
    (row,) = [m for m in _rows("robot") if m.recipient == bad.id]
    assert row.status == "failed" and row.attempts == 1 and "93000" in row.last_error
    assert stats.failed >= 1


def test_bad_signature_is_refused_by_the_standin(app, world, standins):
    _robot(app, "dingtalk", "SECwrong")
    _robot(app, "feishu", "wrong")
    _approve(world)
    outbox.deliver_due()
    rows = _rows("robot")
    assert {m.status for m in rows} == {"failed"}
    assert any("310000" in m.last_error for m in rows) and any("19021" in m.last_error for m in rows)


def test_dingtalk_and_feishu_person_messages(app, world, standins, pinned_clock):
    app.config.update(WECOM_CORP_ID=None, DINGTALK_CLIENT_ID="ding-app", DINGTALK_CLIENT_SECRET="ding-secret",
                      DINGTALK_AGENT_ID="3000", DINGTALK_OAPI_BASE=standins.base,
                      FEISHU_APP_ID="cli_1", FEISHU_APP_SECRET="feishu-secret", FEISHU_API_BASE=standins.base)
    sup = world["users"]["sup1"]
    sup.locale = "en"
    db.session.add_all([UserIdentity(user_id=sup.id, provider="dingtalk", subject="union-1"),
                        UserIdentity(user_id=sup.id, provider="feishu", subject="on_union_1")])
    db.session.commit()
    standins.dingtalk_users["union-1"] = "ding-user-1"
    standins.fail = {"feishu_message": [{"code": 230020, "msg": "This operation triggers the frequency limit."}]}
    report = _approve(world)
    _deliver_until_quiet(pinned_clock)
    sent = [m for m in _rows("workapp") if m.status == "sent"]
    assert len(sent) == 2 and {m.payload["provider"] for m in sent} == {"dingtalk", "feishu"}
    (dt,) = standins.received["dingtalk_message"]
    assert dt["userid_list"] == "ding-user-1" and dt["agent_id"] == 3000
    assert dt["msg"]["action_card"]["single_url"].endswith(f"/go/report/{report.id}")
    # DingTalk cannot drop a repeated work notification: its text ends with the key's short form.
    from webapp.outbox.workapps import short_ref

    (ding_row,) = [m for m in sent if m.payload["provider"] == "dingtalk"]
    assert dt["msg"]["action_card"]["markdown"].endswith(f"— {short_ref(ding_row.idempotency_key)}")
    (fs,) = standins.received["feishu_message"]
    assert fs["receive_id"] == "on_union_1" and fs["msg_type"] == "interactive" and fs["uuid"]
    assert "Report approved" in fs["content"]
    # The same uuid travelled on the failed try and the good one: Feishu could dedupe on it.
    uuids = {c[1]["json"]["uuid"] for c in standins.calls if c[0] == "feishu_message"}
    assert len(uuids) == 1


def test_secret_is_encrypted_at_rest(app):
    sealed = encrypt_secret("SECabc", app.config["SECRET_KEY"])
    assert "SECabc" not in sealed and decrypt_secret(sealed, app.config["SECRET_KEY"]) == "SECabc"


# ---- /admin/channels: group robots -----------------------------------------------------------------------

def _token(client):
    return csrf_from(client.get("/admin/channels/").get_data(as_text=True))


def _form(token, **kw):
    data = {"csrf_token": token, "kind": "wecom", "name": "门店群",
            "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", "secret": "",
            "events": ["report.approved", "warning.raised"]}
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("role", OTHERS)
def test_robots_admin_only(client, auth, world, role):
    auth.login(role)
    token = auth.csrf()
    assert client.post("/admin/channels/robots", data=_form(token)).status_code == 403


def test_register_robot_secret_never_shown(client, auth, world):
    auth.login("admin")
    r = client.post("/admin/channels/robots", data=_form(
        _token(client), kind="dingtalk", url="https://oapi.dingtalk.com/robot/send?access_token=t",
        secret="SECtopsecret123"))
    assert r.status_code == 303
    db.session.rollback()
    (robot,) = db.session.scalars(select(WorkAppRobot)).all()
    assert robot.kind == "dingtalk" and robot.events == ["report.approved", "warning.raised"]
    assert "SECtopsecret123" not in robot.secret_encrypted
    html = client.get("/admin/channels/").get_data(as_text=True)
    assert "门店群" in html and "SECtopsecret123" not in html and robot.secret_encrypted not in html
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "robot.create")) is not None
    off = client.post(f"/admin/channels/robots/{robot.id}/active", data={"csrf_token": _token(client), "active": "0"})
    assert off.status_code == 303
    db.session.rollback()
    assert db.session.get(WorkAppRobot, robot.id).active is False


def test_register_robot_needs_csrf(client, auth, world):
    auth.login("admin")
    data = _form("")
    data.pop("csrf_token")
    assert client.post("/admin/channels/robots", data=data).status_code == 400
    assert db.session.scalar(select(WorkAppRobot)) is None


@pytest.mark.parametrize("change", [
    {"url": "javascript:alert(1)"},
    {"url": "https://evil.example.com/cgi-bin/webhook/send?key=a"},
    {"url": "https://oapi.dingtalk.com/robot/send?access_token=t"},  # a DingTalk address for a WeCom robot
    {"url": "https://user:pw@qyapi.weixin.qq.com/cgi-bin/webhook/send"},
    {"url": "x" * 10000},
    {"kind": "slack"},
    {"name": "=HYPERLINK(1)"},
    {"secret": "with space"},
    {"events": ["nope"]},
    {"events": None},
])
def test_register_robot_hostile_values_400(client, auth, world, change):
    auth.login("admin")
    r = client.post("/admin/channels/robots", data=_form(_token(client), **change))
    assert r.status_code == 400
    db.session.rollback()
    assert db.session.scalar(select(WorkAppRobot)) is None
    assert "value=\"with space\"" not in r.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_channels_page_shows_work_apps(client, auth, world, lang):
    auth.login("admin")
    html = client.get("/admin/channels/", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert re.search(r"Group robots|群机器人", html)
    assert ("Register a group robot" in html) == (lang == "en")


def test_control_characters_in_a_robot_name_are_dropped(client, auth, world):
    auth.login("admin")
    assert client.post("/admin/channels/robots", data=_form(_token(client), name="门店\x00\x07群")).status_code == 303
    db.session.rollback()
    assert db.session.scalar(select(WorkAppRobot.name)) == "门店群"


def test_preferences_apply_to_work_app_cards(app, world, standins, pinned_clock):
    from datetime import UTC, datetime, timedelta

    from webapp.notifications.operations import notify
    from webapp.notifications.preferences import set_preferences

    sup = world["users"]["sup1"]
    db.session.add(UserIdentity(user_id=sup.id, provider="wecom", subject="zhangsan"))
    set_preferences(sup, {"workapp": ["report_returned"]}, "22:00", "07:30", False)
    db.session.commit()
    pinned_clock.move_to(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))  # 23:00 Shanghai: quiet
    notify([sup], "report_returned", "周报")  # turned off for the work app
    notify([sup], "report_approved", "周报")
    db.session.commit()
    (card,) = _rows("workapp")
    assert card.event == "notification.report_approved"
    assert abs(card.next_attempt_at - datetime(2026, 11, 20, 23, 30, tzinfo=UTC)) < timedelta(seconds=2)
    assert outbox.deliver_due().claimed == 0
    pinned_clock.move_to(datetime(2026, 11, 20, 23, 31, tzinfo=UTC))
    assert outbox.deliver_due().sent == 1 and len(standins.received["wecom_message"]) == 1
