"""A simulated device: pushes and pulls through the HTTP API with a bearer token."""

import uuid
from datetime import UTC, datetime

import pytest

from webapp.auth.operations import issue_token
from webapp.extensions import db


def new_id() -> str:
    return str(uuid.uuid4())


class Device:
    def __init__(self, client, user):
        self.client = client
        self.user = user
        self.device_id = new_id()
        self.token = issue_token(user, "test phone")
        db.session.commit()
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def post(self, url, headers=None, **kw):
        db.session.commit()
        return self.client.post(url, headers={**self.headers, **(headers or {})}, **kw)

    def get(self, url, headers=None, **kw):
        db.session.commit()
        return self.client.get(url, headers={**self.headers, **(headers or {})}, **kw)

    def mutation(self, entity, record_id, data=None, base_version=0, op="upsert", mutation_id=None):
        return {"mutation_id": mutation_id or new_id(), "entity": entity, "id": record_id, "op": op,
                "base_version": base_version, "data": data or {}, "client_time": datetime.now(UTC).isoformat()}

    def push(self, *mutations, expect=200):
        db.session.commit()  # XXX: on SQLite the test's own open transaction would hold the write lock
        r = self.client.post("/api/v1/sync/push", json={"device_id": self.device_id, "mutations": list(mutations)},
                             headers=self.headers)
        assert r.status_code == expect, r.get_data(as_text=True)
        return r.get_json()["results"] if expect == 200 else r.get_json()

    def push_one(self, entity, record_id, data=None, base_version=0, op="upsert"):
        return self.push(self.mutation(entity, record_id, data, base_version, op))[0]

    def pull(self, cursor=None, limit=None):
        params = {}
        if cursor is not None:
            params["cursor"] = cursor
        if limit is not None:
            params["limit"] = limit
        db.session.commit()
        r = self.client.get("/api/v1/sync/pull", query_string=params, headers=self.headers)
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.get_json()

    def pull_all(self, cursor=None):
        changes = []
        while True:
            page = self.pull(cursor, limit=50)
            changes += page["changes"]
            cursor = page["cursor"]
            if not page["more"]:
                return changes, cursor


@pytest.fixture
def device(client):
    def make(user):
        return Device(client, user)

    return make
