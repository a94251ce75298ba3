# Two commands: `make run` (the app with demo data on SQLite) and `make test` (everything).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

# The test suite runs on PostgreSQL and Redis on 127.0.0.1 with production-like settings.
TEST_ENV := DATABASE_URL=postgres://postgres@127.0.0.1:5432/skinclinic \
	REDIS_URL=redis://127.0.0.1:6379/15 \
	SECRET_KEY=test-only-secret-key-that-is-long-enough-for-django-checks-0123456789 \
	DEBUG=false SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false

.PHONY: install run test lint format services bench serve bench-load bench-double-booking

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

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: install lint services
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
