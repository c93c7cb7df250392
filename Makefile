# Two commands matter: `make run` (serve the demo site) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-browser lint format bench install migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt requirements-nodeps.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable

## make run — migrate, load the demo data, serve http://127.0.0.1:$(PORT) with the background worker.
## `make run PORT=8100` serves on another port. The demo runs with DEBUG off, so a wrong
## address shows the site's own 404 page; `make run DEBUG=true` shows Django's debug pages.
PORT ?= 8000
DEBUG ?= false
RUN_URL = http://127.0.0.1:$(PORT)
## Payments are on, through the local test gateway (its card page; no keys, no money).
RUN_ENV = ENABLE_PAYMENT_GATEWAY=true PAYMENT_BACKEND=local SITE_URL=$(RUN_URL)
run: migrate
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
	@echo "Starting the web server ($(RUN_URL)) and the worker; Ctrl-C stops both."
	$(RUN_ENV) DEBUG=$(DEBUG) STATIC_FROM_SOURCE=true PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev -p $(PORT)

## make test — lint, migration check and the whole suite (honours DATABASE_URL)
test: install lint
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=config.settings.test
	$(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

## make test-browser — the Playwright tests, in Debian's Chromium (/usr/bin/chromium)
test-browser: install
	$(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## make bench — every benchmark in bench/, each printing its figures and the machine's baseline
bench: install
	@for script in bench/*.py; do case $$script in */common.py|*/__init__.py) continue;; esac; \
		echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
