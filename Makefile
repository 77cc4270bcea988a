# The README names these targets. `make demo` and `make test` set up .venv themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# `make systemd-units`: where the checkout (with its .venv) lives and who runs it.
APP_DIR ?= $(CURDIR)
APP_USER ?= leadbridge
SYSTEMD_OUT ?= build/systemd

.PHONY: demo test lint format deadcode bench-intake bench-soak worker worker-bulk beat pipeline-status systemd-units clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

## Set up, load the demo data and run the portal on SQLite with tasks in-process.
demo: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo
	@echo "LeadBridge is at http://$(HOST):$(PORT)/  (public form: http://$(HOST):$(PORT)/f/talk-to-sales/)"
	@echo
	$(PY) manage.py runserver $(HOST):$(PORT)

# The demo runs on SQLite with tasks in-process: the intake (and imports), handoff and inbox
# tests run that way too, so its `connection.vendor` branches are tested wherever PostgreSQL is.
SQLITE_TESTS ?= tests/leads/capture tests/leads/handoff tests/leads/inbox tests/portal/test_sql.py

## Lint, the import layers, Django's checks and the whole test suite (real PostgreSQL/Redis when
## they answer) in two processes (the machines have two cores; each process has its own test
## database and Redis database), then the intake, handoff and inbox tests again on SQLite.
## `--maxschedchunk 4`: each process is handed at most four tests at a time, in collection order,
## so neither is left holding a run of long tests while the other waits (docs/development.md).
test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(VENV)/bin/pytest -n 2 --maxschedchunk 4 --durations 10
	DATABASE_URL=sqlite://:memory: CELERY_BROKER_URL= $(VENV)/bin/pytest -q $(SQLITE_TESTS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## Code nothing refers to (vulture; advisory: a template or a string may still use a name it lists).
deadcode: $(VENV)/.installed
	-$(VENV)/bin/vulture

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Intake throughput against PostgreSQL, beside a bare one-insert Django view.
bench-intake: $(VENV)/.installed
	$(PY) bench/intake.py

## 30 minutes of mixed traffic against gunicorn + worker + beat: errors, p95 and memory per window.
bench-soak: $(VENV)/.installed
	$(PY) bench/soak.py

## The handoff worker (latency-critical), and one for bulk work, so an import never delays a lead.
worker: $(VENV)/.installed
	$(VENV)/bin/celery -A portal worker --loglevel INFO --queues $${CELERY_HANDOFF_QUEUE:-handoff}

worker-bulk: $(VENV)/.installed
	$(VENV)/bin/celery -A portal worker --loglevel INFO --queues $${CELERY_BULK_QUEUE:-bulk}

beat: $(VENV)/.installed
	$(VENV)/bin/celery -A portal beat --loglevel INFO

pipeline-status: $(VENV)/.installed
	$(PY) manage.py pipeline_status

## systemd units (deploy/systemd) for web, both workers and beat, restarted whenever they exit,
## with APP_DIR and APP_USER filled in, into SYSTEMD_OUT (build/systemd).
systemd-units:
	mkdir -p $(SYSTEMD_OUT)
	for unit in deploy/systemd/leadbridge*; do \
		sed -e 's|@APP_DIR@|$(APP_DIR)|g' -e 's|@APP_USER@|$(APP_USER)|g' $$unit \
			> $(SYSTEMD_OUT)/$$(basename $$unit); \
	done
	@echo "Now: sudo cp $(SYSTEMD_OUT)/* /etc/systemd/system/ && sudo systemctl daemon-reload"
	@echo "     sudo systemctl enable --now leadbridge.target"

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles test-artifacts .pytest_cache .ruff_cache
