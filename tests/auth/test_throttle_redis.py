"""Sign-in throttling with Redis as the limiter's storage (as with several workers), against the
Redis at 127.0.0.1:6379 under a key prefix of its own, removed afterwards."""

import secrets

import pytest
import redis

from tests.auth.test_login import ATTACKER, login_from
from webapp.extensions import limiter

REDIS_URL = "redis://127.0.0.1:6379/0"
PREFIX = f"supervision-test-{secrets.token_hex(4)}"


@pytest.fixture
def app_config():
    return {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": PREFIX}}


@pytest.fixture
def redis_keys(app):
    server = redis.Redis.from_url(REDIS_URL)
    yield lambda: server.keys(f"{PREFIX}:*")
    limiter.storage.reset()  # deletes this prefix's keys only
    assert server.keys(f"{PREFIX}:*") == []
    server.close()


def test_failures_are_counted_in_redis(client, auth, create_user, redis_keys):
    create_user("zhang")
    assert type(limiter.storage).__name__ == "RedisStorage"
    for _ in range(5):
        assert login_from(client, ATTACKER, "zhang", "wrong-password").status_code == 401
    assert redis_keys()  # the counts live in Redis, shared by every worker
    assert login_from(client, ATTACKER, "zhang").status_code == 429
    assert auth.login("zhang").status_code == 302  # the owner, elsewhere
