#!/usr/bin/env bash
# What `make test` needs on a Debian machine: Chromium (browser tests), PostgreSQL with contrib
# (btree_gist), Redis, make and Python's venv. Installs what is missing when run as root; as
# anyone else, prints the one apt-get line to run and stops. Then starts the services
# (scripts/services.sh). SETUP_SKIP_SERVICES=1 only checks and installs.
set -euo pipefail

# command that must exist -> Debian package(s) that bring it
needs=(
  "chromium:chromium"
  "pg_ctlcluster:postgresql postgresql-contrib"
  "redis-server:redis-server"
  "make:make"
)
missing=()
for need in "${needs[@]}"; do
  command -v "${need%%:*}" >/dev/null 2>&1 || missing+=(${need#*:})
done
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "make test needs: ${missing[*]}. Install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${SETUP_SKIP_SERVICES:-}" != "1" ]; then
  "$(dirname "$0")/services.sh"
fi
