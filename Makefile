# One command to serve, one to test. Everything installs itself into .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml 2>/dev/null | cut -c1-12)
PYTEST_WORKERS ?= auto

.PHONY: install run serve migrate demo test test-deep lint format bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/settlement migrate

demo: migrate
	$(BIN)/settlement demo

run: demo
	$(BIN)/settlement serve --host 127.0.0.1 --port 8000

serve: install
	$(BIN)/settlement serve --host 127.0.0.1 --port 8000

# SQLite always; PostgreSQL as well when SETTLEMENT_TEST_DATABASE_URL is set.
test: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q

# Longer property runs; not part of CI.
test-deep: install
	HYPOTHESIS_PROFILE=deep $(BIN)/pytest -n $(PYTEST_WORKERS) -q

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy app csd_sim demo_week tests bench

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Every benchmark in its quick form, each on a fresh database on PostgreSQL 127.0.0.1:5432 (user
# postgres; BENCH_PG_URL to change it), then one table. `python -m bench.<name> --full`: full size.
bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache .grimp_cache .schemathesis
