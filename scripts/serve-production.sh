#!/usr/bin/env bash
# Run skinclinic as production does, on one machine: migrate, collect static files, then
# gunicorn (web), a Celery worker and the Celery beat, until Ctrl-C or SIGTERM stops all three.
#
# Needs DATABASE_URL (PostgreSQL), REDIS_URL, SECRET_KEY and ALLOWED_HOSTS in the environment.
# On a cluster run each role on its own machines instead (docs/operations.md):
#   scripts/serve-production.sh web      # any number of machines
#   scripts/serve-production.sh worker   # any number of machines
#   scripts/serve-production.sh beat     # exactly one, anywhere
#   scripts/serve-production.sh migrate  # once per release, before the new web processes
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
BIN=$(dirname "$PY")

for name in DATABASE_URL REDIS_URL SECRET_KEY; do
  if [ -z "${!name:-}" ]; then
    echo "serve-production: $name is not set (see README.md, Running in production)." >&2
    exit 2
  fi
done

migrate() {
  "$PY" manage.py migrate --noinput
  "$PY" manage.py collectstatic --noinput -v0
}
web() { exec "$BIN/gunicorn" -c skinclinic/gunicorn.conf.py skinclinic.wsgi; }
worker() { exec "$BIN/celery" -A skinclinic worker --loglevel=INFO; }
# The beat keeps its schedule state in memory and a file; no state matters across restarts
# because due work lives in the outbox table.
beat() { exec "$BIN/celery" -A skinclinic beat --loglevel=INFO --schedule="${CELERY_BEAT_SCHEDULE_FILE:-/tmp/skinclinic-celerybeat-schedule}"; }

case "${1:-all}" in
  migrate) migrate ;;
  web) web ;;
  worker) worker ;;
  beat) beat ;;
  all)
    migrate
    pids=()
    stop() {
      trap - INT TERM EXIT
      kill -TERM "${pids[@]}" 2>/dev/null || true
      wait
    }
    trap 'stop; exit 0' INT TERM
    trap stop EXIT
    (web) & pids+=($!)
    (worker) & pids+=($!)
    (beat) & pids+=($!)
    # When any of the three exits, stop the others: a half-running clinic is worse than none.
    wait -n
    echo "serve-production: a process exited; stopping the rest." >&2
    exit 1
    ;;
  *)
    echo "usage: $0 [all|migrate|web|worker|beat]" >&2
    exit 2
    ;;
esac
