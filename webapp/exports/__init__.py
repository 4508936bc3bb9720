"""Large exports (the findings and points Excel files, the report PDF) as jobs on the queue, with a
progress page, a "My exports" list and files that expire (docs/exports.md)."""
