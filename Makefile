# Two commands: `make run` (the app with demo data on SQLite) and `make test` (everything).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

# The test suite runs on PostgreSQL and Redis on 127.0.0.1 with production-like settings.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/skinclinic
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
TEST_SECRET_KEY := test-only-secret-key-that-is-long-enough-for-django-checks-0123456789
TEST_ENV := DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	SECRET_KEY=$(TEST_SECRET_KEY) \
	DEBUG=false SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false

# Locked dependencies (README: Dependencies). pyproject.toml lists the direct ones; `make lock`
# compiles them, hash-pinned, for any platform; pip installs only what the hashes match.
RUNTIME_LOCK := requirements/runtime.txt
DEV_LOCK := requirements/dev.txt
LOCK_ARGS := --quiet --universal --python-version 3.11 --generate-hashes

# `check --deploy` sees production's own defaults (HTTPS on), not the test suite's plain HTTP.
DEPLOY_CHECK_ENV := env -i PATH="$$PATH" DATABASE_URL=$(TEST_DATABASE_URL) \
	SECRET_KEY=$(TEST_SECRET_KEY) ALLOWED_HOSTS=book.skinclinic.example \
	SITE_URL=https://book.skinclinic.example

.PHONY: install install-dev lock upgrade vendor run test lint format services machine bench \
	serve bench-load bench-double-booking
# machine comes first: the virtualenv needs python3-venv.
.NOTPARALLEL: test

$(PY):
	$(PYTHON) -m venv $(VENV)

# Runtime only: what `make run` and `make serve` need (no test or lint tool).
$(VENV)/.installed: $(RUNTIME_LOCK) | $(PY)
	$(VENV)/bin/pip install --quiet --require-hashes -r $(RUNTIME_LOCK)
	touch $@

# Runtime plus tests and tooling.
$(VENV)/.installed-dev: $(DEV_LOCK) $(RUNTIME_LOCK) | $(PY)
	$(VENV)/bin/pip install --quiet --require-hashes -r $(DEV_LOCK)
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# Re-compile the lock files after editing pyproject.toml, keeping every pin that still fits.
lock: install-dev
	UV_CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/uv pip compile $(LOCK_ARGS) \
		pyproject.toml -o $(RUNTIME_LOCK)
	UV_CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/uv pip compile $(LOCK_ARGS) \
		pyproject.toml --extra dev -c $(RUNTIME_LOCK) -o $(DEV_LOCK)

# Move every transitive pin to the newest release the direct pins allow, then re-lock.
upgrade: install-dev
	UV_CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/uv pip compile $(LOCK_ARGS) --upgrade \
		pyproject.toml -o $(RUNTIME_LOCK)
	UV_CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/uv pip compile $(LOCK_ARGS) --upgrade \
		pyproject.toml --extra dev -c $(RUNTIME_LOCK) -o $(DEV_LOCK)

# Re-vendor Bootstrap, htmx and axe-core from package-lock.json (checks their licences).
vendor:
	scripts/vendor.sh

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	PY=$(PY) scripts/run-embedded.sh

services:
	scripts/services.sh

# Debian packages (installed when missing, as root), PostgreSQL and Redis running, the database.
machine:
	DATABASE_URL=$(TEST_DATABASE_URL) PYTHON=$(PYTHON) scripts/setup-test-machine.sh

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: machine install-dev lint
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(DEPLOY_CHECK_ENV) $(PY) manage.py check --deploy --fail-level WARNING
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput -v0
	TEST_REPLICA=1 $(TEST_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

bench: install services
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput -v0
	$(TEST_ENV) $(PY) -m bench.availability
	$(TEST_ENV) $(PY) -m bench.calendar
	$(TEST_ENV) $(PY) -m bench.reminders

# Production on this machine: migrate, collectstatic, gunicorn, a Celery worker and the beat.
# Needs DATABASE_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS (README: Running in production).
serve: install
	scripts/serve-production.sh

# gunicorn under 16 and 64 concurrent clients; 50 HTTP bookings racing for one time.
bench-load: install services
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput -v0
	$(TEST_ENV) $(PY) -m bench.load

bench-double-booking: install services
	$(TEST_ENV) $(PY) -m bench.double_booking
