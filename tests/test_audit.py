import pytest

from webapp.audit.models import AppendOnlyError, AuditEntry
from webapp.audit.operations import record_audit
from webapp.extensions import db


def test_audit_log_is_append_only(app):
    entry = record_audit(None, "plan.approve", "plan", "p1", {"comment": "ok"})
    db.session.commit()
    entry.action = "rewritten"
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(AppendOnlyError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).action == "plan.approve"
