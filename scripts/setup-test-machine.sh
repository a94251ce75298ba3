#!/usr/bin/env bash
# `make test`'s set-up on a Debian machine: install the system packages the suite needs when
# missing (as root; otherwise print the one `sudo apt-get install` line and stop), start
# PostgreSQL and Redis (scripts/services.sh), create the role and database DATABASE_URL
# names, and let 127.0.0.1 replicate from PostgreSQL (tests/test_replica.py makes a standby
# with pg_basebackup).
#
#   scripts/setup-test-machine.sh               # all four steps
#   scripts/setup-test-machine.sh packages      # only the packages (.ci/run, before make exists)
#   scripts/setup-test-machine.sh replication   # only the replication access
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
  # makemessages and msgfmt: tests/test_languages.py checks the Spanish catalogue is complete.
  command -v msgfmt >/dev/null && command -v xgettext >/dev/null || missing+=(gettext)
  # WeasyPrint (signed consent PDFs) draws text with Pango.
  compgen -G "${LIB_DIR:-/usr/lib}/*/libpango-1.0.so.0" >/dev/null ||
    compgen -G "${LIB_DIR:-/usr/lib}/libpango-1.0.so.0" >/dev/null ||
    missing+=(libpango-1.0-0 libpangoft2-1.0-0)
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

database_parts() {
  # user, host, port and database name of DATABASE_URL (what the Makefile's TEST_ENV sets).
  "${PYTHON:-python3}" - <<'EOF'
import os
from urllib.parse import urlparse

url = urlparse(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/skinclinic")
print(url.username or "postgres", url.hostname or "127.0.0.1", url.port or 5432, url.path.lstrip("/"))
EOF
}

as_admin() { psql -h "$host" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq "$@"; }

create_database() {
  local user name
  read -r user host port name <<<"$(database_parts)"
  if [ -z "$(as_admin -c "select 1 from pg_roles where rolname = '$user'")" ]; then
    as_admin -c "create role \"$user\" login createdb"
    echo "setup-test-machine: created role $user"
  fi
  if [ -z "$(as_admin -c "select 1 from pg_database where datname = '$name'")" ]; then
    as_admin -c "create database \"$name\" owner \"$user\""
    echo "setup-test-machine: created database $name"
  fi
}

REPLICATION_LINE="host replication all 127.0.0.1/32 trust"

allow_replication() {
  # pg_basebackup connects to the "replication" pseudo-database, which "host all ..." lines do
  # not match; Debian's default lines for it ask for a password. Put a trust line first.
  local user name hba first wal_level senders rules
  read -r user host port name <<<"$(database_parts)"
  wal_level=$(as_admin -c "show wal_level")
  senders=$(as_admin -c "show max_wal_senders")
  if [ "$wal_level" = minimal ] || [ "$senders" = 0 ]; then
    echo "setup-test-machine: PostgreSQL has wal_level=$wal_level, max_wal_senders=$senders;" \
      "set wal_level=replica and max_wal_senders=10 and restart it for the replica tests" >&2
    exit 1
  fi
  hba=$(as_admin -c "show hba_file")
  # The first line for replication from 127.0.0.1 is the one PostgreSQL uses.
  first=""
  while read -r type database _ address method _; do
    if [ "$type" = host ] && [ "$address" = 127.0.0.1/32 ] &&
      [[ ",$database," == *,replication,* ]]; then
      first=$method
      break
    fi
  done <"$hba"
  [ "$first" = trust ] && return 0
  if [ ! -w "$hba" ]; then
    echo "setup-test-machine: add \"$REPLICATION_LINE\" at the top of $hba and reload" \
      "PostgreSQL (as root or postgres)" >&2
    exit 1
  fi
  rules=$(<"$hba")
  printf '%s\n%s\n' "$REPLICATION_LINE" "$rules" >"$hba"
  as_admin -c "select pg_reload_conf()" >/dev/null
  echo "setup-test-machine: allowed replication from 127.0.0.1 in $hba"
}

if [ "${1:-all}" = replication ]; then
  allow_replication
  exit 0
fi
install_packages
[ "${1:-all}" = packages ] && exit 0
cd "$(dirname "$0")/.."
scripts/services.sh
create_database
allow_replication
