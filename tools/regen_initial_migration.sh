#!/usr/bin/env bash
# Until the first release, the schema is one migration (0001) generated from the models.
# Run this after changing models: it rebuilds migrations/versions/0001_initial_schema.py.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/*.py
INSTANCE_PATH=$tmp DATABASE_URL="sqlite:///$tmp/empty.db" .venv/bin/flask --app webapp db migrate -m "initial schema" --rev-id 0001 >/dev/null 2>&1
rm -rf "$tmp"
ls migrations/versions
