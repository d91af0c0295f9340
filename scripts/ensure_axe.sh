#!/usr/bin/env bash
# The accessibility tests inject axe-core (from the npm registry, pinned in
# package-lock.json) into every page. Installs it with npm when it is missing.
set -u
cd "$(dirname "$0")/.."
[ -f node_modules/axe-core/axe.min.js ] && exit 0
if command -v npm >/dev/null; then
  echo "Installing axe-core for the accessibility tests (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing npm, then axe-core for the accessibility tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq npm >/dev/null
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
[ -f node_modules/axe-core/axe.min.js ] \
  || echo "axe-core is not installed: the accessibility tests will fail" >&2
exit 0
