import pytest

from tests.results.evaluation.conftest import _reads_do_not_lock  # noqa: F401 (autouse fixture)
from webapp.extensions import db
from webapp.results.models import PolicySuggestion


@pytest.fixture
def suggestion(world):
    s = PolicySuggestion(title="修订现金管理规定", body="日结双人签字", status="proposed",
                         author_id=world["users"]["sup1"].id, source_type="finding",
                         source_id=world["findings"][0].id)
    db.session.add(s)
    db.session.commit()
    return s
