"""A results operation that refuses: a permission refusal (403) or a broken rule with the form fields
to fix. Views turn it into a response with `webapp.core.formdata.refusal_errors`."""


class ResultsError(Exception):
    def __init__(self, message: str, fields: dict | None = None, status: int = 409):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.status = status
