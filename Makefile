# Comptoir: `make run` serves the demo marketplace on SQLite; `make test` runs every suite on SQLite then PostgreSQL.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
COMPTOIR_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
export COMPTOIR_TEST_DATABASE_URL

.PHONY: run install test test-sqlite test-postgres bench reliability lint graph clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	COMPTOIR_DATABASE_URL=$${COMPTOIR_DATABASE_URL:-sqlite:///$(CURDIR)/var/comptoir.sqlite3} \
		$(BIN)/comptoir serve --demo --host 127.0.0.1 --port 8000

# The e2e tests drive Debian's Chromium (never a browser downloaded by Playwright).
chromium:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

test: $(STAMP) chromium
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: $(STAMP) chromium
	@echo "== Test suite on SQLite =="
	COMPTOIR_DATABASE_URL=sqlite:///$(CURDIR)/var/test-base.sqlite3 $(BIN)/python -m pytest -q -m "not postgres_only" $(PYTEST_ARGS)

test-postgres: $(STAMP) chromium
	@echo "== Test suite on PostgreSQL ($(COMPTOIR_TEST_DATABASE_URL)) =="
	@if $(BIN)/python -c "import os,psycopg; psycopg.connect(os.environ['COMPTOIR_TEST_DATABASE_URL'], connect_timeout=5).close()" 2>/dev/null; then \
		COMPTOIR_DATABASE_URL=$(COMPTOIR_TEST_DATABASE_URL) $(BIN)/python -m pytest -q $(PYTEST_ARGS); \
	else \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
		echo "!!! PostgreSQL is unreachable at $(COMPTOIR_TEST_DATABASE_URL): PostgreSQL pass NOT RUN"; \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
		if [ "$${CI:-}" = "true" ]; then exit 1; fi; \
	fi

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Faults under load (kill -9, PostgreSQL restart, full disk), scale-out, fuzzing: README « Reliability ».
reliability: $(STAMP)
	$(BIN)/python reliability/run.py $(RELIABILITY_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench reliability
	$(BIN)/lint-imports

graph: $(STAMP)
	$(BIN)/comptoir lifecycle_graph > docs/lifecycle.md

clean:
	rm -rf $(VENV) var .pytest_cache
