"""The OpenAPI document of /api/v1, and schemathesis against it (in-process, on the WSGI app):
no 500, every response as documented."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth, missing_required_header

from tests.sync.conftest import Device
from webapp.api.openapi import build_spec
from webapp.extensions import db


def test_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.") and doc["info"]["version"]
    for path in ("/sync/pull", "/sync/push", "/sync/import", "/conflicts", "/conflicts/{conflict_id}/resolve"):
        assert path in doc["paths"]
    assert {"PushDoc", "PushResponse", "PullResponse"} <= set(doc["components"]["schemas"])


# Revoking a token is the foundation's (tests/api/test_token.py); fuzzing it revokes the token under test.
schema = schemathesis.openapi.from_dict(build_spec()).exclude(method="DELETE", path="/auth/token")
# XXX: in-process, schemathesis' unauthenticated replays report 200s that a fresh client does not
# reproduce (it answers 401: tests/sync/test_pull_conflicts.py, test_push.py); these two checks are
# left to those tests.
AUTH_REPLAY_CHECKS = [missing_required_header, ignored_auth]


def _fresh_context(app):
    """Each request in its own app context (fresh `g`, fresh session), as under a real server."""

    def wsgi(environ, start_response):
        with app.app_context():
            return list(app(environ, start_response))

    return wsgi


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(case, app, world, client):
    case.operation.schema.app = app
    db.session.commit()
    user = world["users"]["manager"] if case.path.startswith("/conflicts") else world["users"]["sup1"]
    token = Device(client, user).token  # fresh each case: one of them may revoke its token
    # identity: the app is called through WSGI, where nothing undoes a gzip Content-Encoding as an
    # HTTP client would (tests/sync/test_pull_scope.py checks the compression).
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    case.call_and_validate(app=_fresh_context(app), excluded_checks=AUTH_REPLAY_CHECKS)
    db.session.commit()
