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
# `check --deploy` sees production's own defaults (HTTPS on), not the test suite's plain HTTP.
DEPLOY_CHECK_ENV := env -i PATH="$$PATH" DATABASE_URL=$(TEST_DATABASE_URL) \
	SECRET_KEY=$(TEST_SECRET_KEY) ALLOWED_HOSTS=book.skinclinic.example \
	SITE_URL=https://book.skinclinic.example

.PHONY: install run test lint format services machine bench serve bench-load bench-double-booking
# machine comes first: the virtualenv needs python3-venv.
.NOTPARALLEL: test

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	PY=$(PY) scripts/run-embedded.sh

services:
	scripts/services.sh

# Debian packages (installed when missing, as root), PostgreSQL and Redis running, the database.
machine:
	DATABASE_URL=$(TEST_DATABASE_URL) PYTHON=$(PYTHON) scripts/setup-test-machine.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: machine install lint
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(DEPLOY_CHECK_ENV) $(PY) manage.py check --deploy --fail-level WARNING
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput -v0
	$(TEST_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

bench: install services
	$(TEST_ENV) $(PY) -m bench.availability
	$(TEST_ENV) $(PY) -m bench.calendar
	$(TEST_ENV) $(PY) -m bench.reminders

# Production on this machine: migrate, collectstatic, gunicorn, a Celery worker and the beat.
# Needs DATABASE_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS (README: Running in production).
serve: install
	scripts/serve-production.sh

# gunicorn under 16 and 64 concurrent clients; 50 HTTP bookings racing for one time.
bench-load: install services
	$(TEST_ENV) $(PY) -m bench.load

bench-double-booking: install services
	$(TEST_ENV) $(PY) -m bench.double_booking
