#!/usr/bin/env bash
# make test: ruff, pytest on SQLite, the same suite on PostgreSQL, then the Playwright suite.
# Under CI=true a PostgreSQL or browser suite that cannot run is a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
CI=${CI:-false}
PG_DEFAULT="postgresql+psycopg://postgres@127.0.0.1:5432/test"

echo "== ruff"
.venv/bin/ruff check .

# The report PDF embeds a CJK font; poppler-utils (pdftotext, pdftoppm, pdftohtml: tests/pdf_checks.py)
# checks what it renders, in both the database suites and the browser suite. Installed here, before the
# suites start (the SQLite suite needs it at once); under CI=true a PDF check without it fails.
if { [ ! -d /usr/share/fonts/opentype/noto ] || ! command -v pdftotext >/dev/null || ! command -v pdftoppm >/dev/null \
     || ! command -v pdftohtml >/dev/null; } && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "== installing Debian's fonts-noto-cjk and poppler-utils for the PDF export"
  (apt-get install -y -qq fonts-noto-cjk poppler-utils >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq fonts-noto-cjk poppler-utils; }) >/dev/null
fi

pg_url=${TEST_DATABASE_URL:-}
if [ -z "$pg_url" ] && $PY - "$PG_DEFAULT" <<'PYEOF' 2>/dev/null
import sys, psycopg
psycopg.connect(sys.argv[1].replace("postgresql+psycopg", "postgresql"), connect_timeout=3).close()
PYEOF
then pg_url=$PG_DEFAULT; fi
if [ -z "$pg_url" ] && [ "$CI" = "true" ]; then
  echo "FAIL: no PostgreSQL answers and TEST_DATABASE_URL is not set (required under CI)"; exit 1
fi

# Chromium for the browser suite; libfaketime moves a test server's clock (e2e/test_company_lifecycle.py);
# poppler-utils again for the PDF pages the browser suite looks at (a no-op once installed above).
# Installed (when missing) in the background while the database suites run.
browser_log=$(mktemp)
if { [ ! -x /usr/bin/chromium ] || ! ls /usr/lib/*/faketime/libfaketimeMT.so.1 >/dev/null 2>&1; } && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  (apt-get install -y -qq chromium faketime poppler-utils >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium faketime poppler-utils; }) >"$browser_log" 2>&1 &
  apt_pid=$!
else
  apt_pid=
fi

# The two database suites are independent (each its own database, media and ports): on a 2-core
# machine they run side by side; the browser suite starts as soon as the first of them is done (it
# has its own server and database). Each prints its output when all are done.
logs=$(mktemp -d)
TEST_DATABASE_URL= $PY -m pytest tests >"$logs/sqlite" 2>&1 &
sqlite_pid=$!
pids=($sqlite_pid)
if [ -n "$pg_url" ]; then
  TEST_DATABASE_URL=$pg_url $PY -m pytest tests >"$logs/pg" 2>&1 &
  pg_pid=$!
  pids+=($pg_pid)
fi
wait -n "${pids[@]}" || true  # the first suite to finish (its status is read again below)
[ -z "$apt_pid" ] || { wait "$apt_pid" || true; cat "$browser_log"; }
e2e_pid=
if [ -x /usr/bin/chromium ]; then
  $PY -m pytest e2e >"$logs/e2e" 2>&1 &
  e2e_pid=$!
fi
sqlite_rc=0; pg_rc=0; e2e_rc=0
wait $sqlite_pid || sqlite_rc=$?
echo "== pytest (SQLite)"; cat "$logs/sqlite"
if [ -n "$pg_url" ]; then
  wait $pg_pid || pg_rc=$?
  echo "== pytest (PostgreSQL)"; cat "$logs/pg"
else
  echo "skipped PostgreSQL suite: no server at 127.0.0.1:5432 and TEST_DATABASE_URL not set"
fi
if [ -n "$e2e_pid" ]; then
  wait $e2e_pid || e2e_rc=$?
  echo "== e2e (Playwright, Chromium)"; cat "$logs/e2e"
elif [ "$CI" = "true" ]; then
  echo "FAIL: /usr/bin/chromium is missing and could not be installed (required under CI)"; e2e_rc=1
else
  echo "skipped e2e suite: /usr/bin/chromium is missing (install it: apt-get install chromium)"
fi
rm -rf "$logs" "$browser_log"
if [ $sqlite_rc -ne 0 ] || [ $pg_rc -ne 0 ] || [ $e2e_rc -ne 0 ]; then
  echo "FAIL: pytest exited with $sqlite_rc (SQLite), $pg_rc (PostgreSQL) and $e2e_rc (e2e)"; exit 1
fi
