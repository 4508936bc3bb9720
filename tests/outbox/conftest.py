import secrets

import pytest

from tests.receivers import WebhookReceiver, start_smtp
from webapp.extensions import db
from webapp.outbox.models import WebhookEndpoint
from webapp.outbox.webhooks import EVENTS


@pytest.fixture
def app_config():
    return {"WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_TIMEOUT": 1.0, "OUTBOX_BACKOFF_SECONDS": 10,
            "OUTBOX_BACKOFF_MAX_SECONDS": 600, "OUTBOX_LEASE_SECONDS": 60}


@pytest.fixture
def receiver():
    r = WebhookReceiver()
    yield r
    r.down()


@pytest.fixture
def endpoint(app, receiver):
    ep = WebhookEndpoint(name="receiver", url=receiver.url, events=list(EVENTS), active=True,
                         salt=secrets.token_hex(16))
    db.session.add(ep)
    db.session.commit()
    return ep


@pytest.fixture
def smtp_server(app):
    inbox, controller, port = start_smtp()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    yield inbox
    controller.stop()
