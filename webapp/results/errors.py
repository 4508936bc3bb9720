"""A results operation that refuses: a permission refusal (403) or a broken rule with the form fields
to fix, and the one way views turn it into a response."""

from flask import abort

from webapp.extensions import db


class ResultsError(Exception):
    def __init__(self, message: str, fields: dict | None = None, status: int = 409):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.status = status


def form_errors(e: ResultsError) -> dict:
    """Undo the refused operation; a refusal is a 403, anything else goes back to the form with the
    reason next to its field."""
    db.session.rollback()
    if e.status == 403:
        abort(403)
    return e.fields or {"_schema": [e.message]}
