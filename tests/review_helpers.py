"""Shared by the review, reports and rectification tests."""

import pytest

from tests.conftest import FreshContextClient, csrf_from
from webapp.extensions import db


@pytest.fixture(autouse=True)
def _release_test_transaction(monkeypatch):
    """On SQLite the test's own session holds the write lock (BEGIN IMMEDIATE) once it touched the
    database; end it before each request, as a second user's request would find it."""
    original = FreshContextClient.open

    def open_(self, *args, **kwargs):
        db.session.rollback()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FreshContextClient, "open", open_)


def post(client, path, data=None, **kw):
    token = csrf_from(client.get("/").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kw)
