import os
import secrets
import threading
import time

import pytest

from tests.outbox.conftest import endpoint, receiver  # noqa: F401  (the outbox's receiver fixtures, shared)
from webapp.jobs import get_huey

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:  # noqa: BLE001
        return False


def require_redis() -> None:
    """Skip without Redis on a developer's machine; under CI (CI=true) its absence is a failure."""
    if redis_available():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("Redis is required under CI (127.0.0.1:6379): the queue tests run on RedisHuey too")
    pytest.skip("no Redis at 127.0.0.1:6379")


@pytest.fixture
def app_config():
    return {"WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_TIMEOUT": 2.0}


@pytest.fixture(params=["sqlite", "redis"])
def queue(request, app, tmp_path):
    """A real huey queue for this test and a consumer (2 worker threads) running it: SqliteHuey in a
    temp file, or RedisHuey at 127.0.0.1:6379 under a name unique to this test, emptied after."""
    if request.param == "redis":
        require_redis()
        app.config["HUEY_URL"] = REDIS_URL
    else:
        app.config["HUEY_URL"] = f"sqlite:///{tmp_path / 'jobs.db'}"
    app.config["HUEY_NAME"] = f"test-{secrets.token_hex(6)}"
    app.extensions.pop("huey", None)
    huey = get_huey(app)
    consumer = huey.create_consumer(workers=2, worker_type="thread", periodic=False, initial_delay=0.05,
                                    max_delay=0.2, check_worker_health=False)
    consumer._set_signal_handlers = lambda: None  # a thread may not install signal handlers
    consumer.start()
    yield huey
    consumer.stop(graceful=True)
    huey.storage.flush_all()
    if request.param == "redis":
        huey.storage.conn.close()
    app.extensions.pop("huey", None)


def wait_until(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


__all__ = ["wait_until", "threading"]
