#!/usr/bin/env bash
# Until the first release, the schema is one migration (0001) generated from the models.
# Run this after changing models: it rebuilds migrations/versions/0001_initial_schema.py.
# Hand-written migrations after it (0002_findings_search.py: dialect-specific search DDL) are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/0001_*.py
mkdir -p "$tmp/keep" && mv migrations/versions/0[0-9][0-9][0-9]_*.py "$tmp/keep/" 2>/dev/null || true
INSTANCE_PATH=$tmp DATABASE_URL="sqlite:///$tmp/empty.db" .venv/bin/flask --app webapp db migrate -m "initial schema" --rev-id 0001 >/dev/null 2>&1
mv "$tmp"/keep/*.py migrations/versions/ 2>/dev/null || true
rm -rf "$tmp"
ls migrations/versions
