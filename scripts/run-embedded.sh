#!/usr/bin/env bash
# `make run`: the web server and, next to it, the loop that sends due reminders (no Redis, no
# Celery worker needed). Stopping one (Ctrl-C, or either exits) stops both.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}

"$PY" manage.py dispatch_messages --loop --every 30 &
dispatcher=$!
"$PY" manage.py runserver "${RUN_ADDRESS:-127.0.0.1:8000}" &
server=$!
trap 'kill "$server" "$dispatcher" 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

wait -n "$server" "$dispatcher"
