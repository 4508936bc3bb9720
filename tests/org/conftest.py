import pytest

from tests.sync.conftest import device  # noqa: F401  (the phone's device fixture, for the push tests)
from webapp.extensions import db
from webapp.org.models import Department, Person


@pytest.fixture
def request_ctx(app):
    """Operations speak the user's language, so they run inside a request, as in production."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.fixture
def tree(world):
    """D1 (一部) ⊃ D1A (branch) ⊃ D1A1 (region); D2 (二部) on its own; a person in D1 and one in D2."""
    d1, d2 = world["depts"]
    d1a = Department(code="D1A", name="一部华东分部", kind="branch", parent_id=d1.id)
    db.session.add(d1a)
    db.session.flush()
    d1a1 = Department(code="D1A1", name="上海区域", kind="region", parent_id=d1a.id)
    p1 = Person(code="P1", name="张店长", position="店长", department_id=d1.id)
    p2 = Person(code="P2", name="李经理", position="经理", department_id=d2.id)
    db.session.add_all([d1a1, p1, p2])
    db.session.commit()
    return {"d1": d1, "d2": d2, "d1a": d1a, "d1a1": d1a1, "p1": p1, "p2": p2}
