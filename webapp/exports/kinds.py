"""The exports there are: kind → builder (each feature owns its own; imported when a job runs) and
the words a person reads for each kind and each failure."""

import importlib

from flask_babel import lazy_gettext as _l

BUILDERS = {
    "findings_xlsx": "webapp.findings.export:findings_export",
    "report_pdf": "webapp.reports.pdf:report_export",
}

KIND_LABELS = {
    "findings_xlsx": _l("Findings (Excel)"),
    "report_pdf": _l("Supervision report (PDF)"),
}

ERROR_LABELS = {
    "denied": _l("You may no longer export this. Ask your manager if you think you should."),
    "font_missing": _l("The PDF needs a Chinese font on the server (Debian package fonts-noto-cjk)."),
    "queue_unavailable": _l("The export could not be started because the job queue is not reachable. "
                            "Try again in a few minutes."),
    "interrupted": _l("The export was interrupted (the worker stopped). Start it again."),
    "storage": _l("The file could not be saved. Try again later."),
    "failed": _l("The export failed. Try again; if it fails again, tell your administrator."),
}

STATUS_LABELS = {
    "queued": _l("Waiting to start"),
    "running": _l("Being made"),
    "done": _l("Ready to download"),
    "failed": _l("Export failed"),
    "expired": _l("Expired"),
}


def builder(kind: str):
    module, name = BUILDERS[kind].split(":")
    return getattr(importlib.import_module(module), name)


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, _l("Export")))


def error_label(code: str | None) -> str:
    return str(ERROR_LABELS.get(code or "failed", ERROR_LABELS["failed"]))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))
