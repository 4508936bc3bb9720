import pytest

from tests.jobs.conftest import queue  # noqa: F401  (the real queue of tests/jobs: SqliteHuey and RedisHuey)
from webapp.extensions import db
from webapp.reports import operations as report_ops


@pytest.fixture
def app_config():
    # Immediate mode: the job runs inside the request that asks for it (the single-process install).
    return {"HUEY_IMMEDIATE": True, "WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_TIMEOUT": 2.0}


@pytest.fixture
def report(world, app):
    with app.test_request_context():
        r = report_ops.create_report(world["visits"][0], world["users"]["sup1"])
    db.session.commit()
    return r


@pytest.fixture
def not_immediate(app):
    """Before `queue` (list it first): a consumer refuses a queue in immediate mode."""
    app.config["HUEY_IMMEDIATE"] = False
    app.extensions.pop("huey", None)

