"""Demo: evaluate the seeded warning rules against whatever data exists (idempotent by design)."""

from webapp.results.warnings.operations import check_warnings


def seed_warnings() -> dict:
    result = check_warnings()
    return {"warnings": len(result.raised)} if result.raised else {}
