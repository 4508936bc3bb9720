"""The supervisor's phone: an installable offline app (/m/) that renders from IndexedDB and syncs
with /api/v1/sync (see docs-phone.md)."""
