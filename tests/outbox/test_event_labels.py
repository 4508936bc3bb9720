"""The outbox list names every message's event and channel in the reader's language: notification
emails and work-app messages, the digest and the webhook events, never their codes (issue #17)."""

import re

import pytest

from webapp.extensions import db
from webapp.outbox import operations as ops


@pytest.mark.parametrize("lang,label,channel", [
    ("zh-CN", "待审批的督导报告", "电子邮箱"),
    ("en", "Report to approve", "Email"),
])
def test_notification_emails_show_labels_not_codes(client, auth, world, lang, label, channel):
    admin = world["users"]["admin"]
    ops.enqueue_message("email", "notification.report_to_approve", admin.id, {"subject": "s"})
    ops.enqueue_message("email", "notification.digest", admin.id, {"subject": "s"})
    ops.enqueue_message("workapp", "notification.overdue", admin.id, {"provider": "wecom"})
    db.session.commit()
    auth.login("admin")
    html = client.get("/admin/channels/", headers={"Accept-Language": lang}).get_data(as_text=True)
    visible = re.sub(r"<details class=\"outbox-key\">.*?</details>", "", html, flags=re.S)  # the key, folded
    visible = re.sub(r"<[^>]+>", " ", visible)
    assert "notification." not in visible and "report_to_approve" not in visible
    assert label in visible and channel in visible
    assert re.search(r">\s*(email|workapp)\s*<", html) is None
