# Broker Academy. `make run` and `make test` bootstrap everything they need on a fresh machine.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format bench i18n init clean

# (Re)install only when pyproject.toml is newer than the last install.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

init: $(STAMP)
	$(VENV)/bin/academy init

run: init
	$(VENV)/bin/academy serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) -m bench $(if $(CASE),--case $(CASE),)

# Extract UI strings and merge them into the zh_CN catalog (then translate the new empty entries).
i18n: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg --sort-by-file --no-wrap --no-location -o backend/locale/messages.pot .
	$(VENV)/bin/pybabel update -i backend/locale/messages.pot -d backend/locale -l zh_CN --no-wrap --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
