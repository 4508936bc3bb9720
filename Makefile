# 运营督导系统 — two commands: `make run` (demo on SQLite) and `make test` (everything).
VENV   ?= .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app webapp
PORT   ?= 5000
PYTHON ?= python3

.PHONY: pdf-font run test install translations migrate seed lint serve clean bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# .mo files are build output: compiled from the committed .po catalogs on every install.
translations: $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d webapp/translations >/dev/null  # this Babel has no -q

install: $(VENV)/.installed translations pdf-font

# The report PDF embeds a CJK font from Debian's fonts-noto-cjk (installed when root and missing).
pdf-font:
	@[ -d /usr/share/fonts/opentype/noto ] || [ "$$(id -u)" != "0" ] || ! command -v apt-get >/dev/null || \
	  (apt-get install -y -qq fonts-noto-cjk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq fonts-noto-cjk >/dev/null))

migrate: install
	$(FLASK) db upgrade

# The demo's warnings check notifies the demo manager; with the mail catcher on (as `make run` has it)
# those emails are written to the outbox, and the worker delivers them to instance/mail/*.eml.
seed: migrate
	MAIL_CATCHER=$${MAIL_CATCHER:-1} $(FLASK) seed-demo

# The web server and, beside it, the job queue's worker (outbox delivery, daily checks: docs/messages.md);
# the worker stops when the server does. Without SMTP_HOST the demo's emails go to instance/mail/*.eml.
# MALLOC_ARENA_MAX=2: libvips' threads keep less freed memory (docs/photos.md "Ingest backends").
run: seed
	@export MAIL_CATCHER=$${MAIL_CATCHER:-1} MALLOC_ARENA_MAX=$${MALLOC_ARENA_MAX:-2}; \
	$(FLASK) jobs worker --workers 2 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

lint: install
	$(VENV)/bin/ruff check .

test: install
	bash tools/run_tests.sh

# Benchmarks print figures side by side in one run; they are never part of `make test`.
PG_BENCH ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
bench: install
	$(PY) bench/photos.py
	$(PY) bench/findings_list.py
	$(PY) bench/findings_list.py --pg $(PG_BENCH)
	$(PY) bench/review_queue.py
	$(PY) bench/review_queue.py --pg $(PG_BENCH)
	$(PY) bench/supervisors_ranking.py --pg $(PG_BENCH)
	$(PY) bench/rectification_list.py --pg $(PG_BENCH)
	$(PY) bench/plan_pages.py --pg $(PG_BENCH)
	$(PY) bench/sync_push.py --db both
	$(PY) bench/sync_pull.py --db sqlite
	$(PY) bench/sync_pull.py --db postgresql
	$(PY) bench/phone_shell.py
	$(PY) bench/dashboard.py
	$(PY) bench/dashboard.py --pg $(PG_BENCH)
	$(PY) bench/points_post.py
	$(PY) bench/outbox.py
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/load.py
	$(PY) bench/outbox.py
	$(PY) bench/outbox.py --rate 30

clean:
	rm -rf $(VENV) instance e2e/artifacts
