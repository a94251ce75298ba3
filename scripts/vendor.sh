#!/usr/bin/env bash
# `make vendor`: re-vendor the front-end files from the npm registry, exactly the versions in
# package-lock.json (integrity-checked by npm ci), after checking each package's licence.
# To move a version: edit package.json, `npm install --package-lock-only --ignore-scripts`,
# then `make vendor` and commit package*.json with the copied files.
set -euo pipefail
cd "$(dirname "$0")/.."

# Licences we may ship (SPDX ids as the packages declare them).
allowed=(MIT ISC 0BSD BSD-2-Clause BSD-3-Clause Apache-2.0 MPL-2.0)

command -v npm >/dev/null || { echo "vendor.sh: npm is missing: sudo apt-get install npm" >&2; exit 1; }
npm ci --ignore-scripts --no-audit --no-fund --silent

# Every package installed, not only the three named: Bootstrap's bundle includes @popperjs/core.
status=0
for dir in $(node -p "Object.keys(require('./package-lock.json').packages).filter(Boolean).join(' ')"); do
  pkg=${dir#node_modules/}
  licence=$(node -p "require('./$dir/package.json').license || ''")
  version=$(node -p "require('./$dir/package.json').version")
  ok=no
  for a in "${allowed[@]}"; do [ "$licence" = "$a" ] && ok=yes; done
  if [ $ok = yes ]; then
    echo "$pkg $version: $licence"
  else
    echo "vendor.sh: $pkg $version has licence '${licence:-none}', not in: ${allowed[*]}" >&2
    status=1
  fi
done
[ $status = 0 ] || exit 1

copy() { install -D -m 644 "node_modules/$1" "$2"; }
copy bootstrap/dist/js/bootstrap.bundle.min.js static/vendor/bootstrap/bootstrap.bundle.min.js
copy bootstrap/dist/js/bootstrap.bundle.min.js.map static/vendor/bootstrap/bootstrap.bundle.min.js.map
copy bootstrap/dist/css/bootstrap.min.css static/vendor/bootstrap/bootstrap.min.css
copy bootstrap/dist/css/bootstrap.min.css.map static/vendor/bootstrap/bootstrap.min.css.map
copy bootstrap/LICENSE static/vendor/bootstrap/LICENSE
copy htmx.org/dist/htmx.min.js static/vendor/htmx/htmx.min.js
copy htmx.org/LICENSE static/vendor/htmx/LICENSE
copy signature_pad/dist/signature_pad.umd.min.js static/vendor/signature_pad/signature_pad.umd.min.js
copy signature_pad/dist/signature_pad.umd.min.js.map static/vendor/signature_pad/signature_pad.umd.min.js.map
copy signature_pad/LICENSE static/vendor/signature_pad/LICENSE
copy axe-core/axe.min.js tests/e2e/vendor/axe.min.js
copy axe-core/LICENSE tests/e2e/vendor/LICENSE-axe-core
git status --short static/vendor tests/e2e/vendor
