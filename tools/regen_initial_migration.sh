#!/usr/bin/env bash
# Until the first release, the model schema is one migration (0001) generated from the models;
# hand-written migrations after it (dialect-specific DDL such as full-text indexes) are kept.
# Run this after changing models: it rebuilds migrations/versions/0001_initial_schema.py.
# Hand-written migrations after it (0002_findings_search.py: dialect-specific search DDL) are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/later"
for f in migrations/versions/*.py; do
  case "$(basename "$f")" in 0001_*) rm -f "$f" ;; *) mv "$f" "$tmp/later/" ;; esac
done
INSTANCE_PATH=$tmp DATABASE_URL="sqlite:///$tmp/empty.db" \
  .venv/bin/flask --app webapp db migrate -m "initial schema" --rev-id 0001 >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
mv "$tmp"/later/*.py migrations/versions/ 2>/dev/null || true
ls migrations/versions
