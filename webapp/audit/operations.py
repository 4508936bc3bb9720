from flask import has_request_context, request

from webapp.audit.models import AuditEntry
from webapp.extensions import db


def record_audit(user, action: str, entity: str, entity_id, data: dict | None = None) -> AuditEntry:
    """Append one entry to the audit log (flushed with the change it describes, never committed here)."""
    entry = AuditEntry(
        user_id=getattr(user, "id", None),
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        data=data or {},
        address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
