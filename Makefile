# Two commands matter: `make run` (serve the demo site) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-browser lint format bench install migrate clean messages

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
## The secrets the demo keeps (calendar passwords and tokens) are encrypted under a key of
## its own, made once in $(LOCAL_KEYS) (git-ignored; FIELD_ENCRYPTION_KEYS, when set, wins).
LOCAL_KEYS ?= .local/field-encryption.key
RUN_ENV = ENABLE_PAYMENT_GATEWAY=true PAYMENT_BACKEND=local SITE_URL=$(RUN_URL) \
	FIELD_ENCRYPTION_KEYS="$${FIELD_ENCRYPTION_KEYS:-$$(cat $(LOCAL_KEYS))}"
run: migrate $(LOCAL_KEYS)
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
	@echo "Starting the web server ($(RUN_URL)) and the worker; Ctrl-C stops both."
	$(RUN_ENV) DEBUG=$(DEBUG) STATIC_FROM_SOURCE=true PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev -p $(PORT)

$(LOCAL_KEYS): | $(STAMP)
	@mkdir -p $(@D)
	@umask 077 && $(BIN)/python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())" > $@.new
	@mv $@.new $@
	@echo "Made this machine's encryption key in $@ (keep it: what the demo stored encrypted can't be read without it)."

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
## make messages — bring every French catalogue in line with the code and compile it
## (then translate what `manage.py translations check` lists)
messages: install
	$(BIN)/python manage.py translations update

bench: install
	@for script in bench/*.py; do case $$script in */common.py|*/__init__.py) continue;; esac; \
		echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
