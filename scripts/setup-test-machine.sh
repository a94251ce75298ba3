#!/usr/bin/env bash
# `make test`'s set-up on a Debian machine: install the system packages the suite needs when
# missing (as root; otherwise print the one `sudo apt-get install` line and stop), start
# PostgreSQL and Redis (scripts/services.sh), then create the role and database DATABASE_URL
# names.
#
#   scripts/setup-test-machine.sh            # all three steps
#   scripts/setup-test-machine.sh packages   # only the packages (.ci/run, before make exists)
#
# PYTHON (default python3) is the interpreter the virtualenv is made from; PG_SHARE (default
# /usr/share/postgresql) is where PostgreSQL's extensions live. The package step uses only
# shell built-ins besides `id`, `apt-get` and the probed tools, so tests/test_setup_script.py
# can run it with a PATH of fakes.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

missing_packages() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  if ! command -v pg_ctlcluster >/dev/null; then
    missing+=(postgresql postgresql-contrib)
  elif ! compgen -G "${PG_SHARE:-/usr/share/postgresql}/*/extension/btree_gist.control" >/dev/null; then
    # The booking exclusion constraints need btree_gist.
    missing+=(postgresql-contrib)
  fi
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v make >/dev/null || missing+=(make)
  "${PYTHON:-python3}" -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
  echo "${missing[*]}"
}

install_packages() {
  local missing
  missing=$(missing_packages)
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "setup-test-machine: missing $missing; install them with: sudo apt-get install -y $missing" >&2
    exit 1
  fi
  echo "setup-test-machine: installing $missing"
  # shellcheck disable=SC2086 # one word per package
  apt-get update -qq && apt-get install -y -qq $missing >/dev/null
}

create_database() {
  # user, host, port and database name of DATABASE_URL (what the Makefile's TEST_ENV sets).
  local parts user host port name
  parts=$("${PYTHON:-python3}" - <<'EOF'
import os
from urllib.parse import urlparse

url = urlparse(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/skinclinic")
print(url.username or "postgres", url.hostname or "127.0.0.1", url.port or 5432, url.path.lstrip("/"))
EOF
  )
  read -r user host port name <<<"$parts"
  as_admin() { psql -h "$host" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq "$@"; }
  if [ -z "$(as_admin -c "select 1 from pg_roles where rolname = '$user'")" ]; then
    as_admin -c "create role \"$user\" login createdb"
    echo "setup-test-machine: created role $user"
  fi
  if [ -z "$(as_admin -c "select 1 from pg_database where datname = '$name'")" ]; then
    as_admin -c "create database \"$name\" owner \"$user\""
    echo "setup-test-machine: created database $name"
  fi
}

install_packages
[ "${1:-all}" = packages ] && exit 0
cd "$(dirname "$0")/.."
scripts/services.sh
create_database
