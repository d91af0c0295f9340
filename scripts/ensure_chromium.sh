#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (Playwright cannot download its own browser
# here). Installs it with apt when missing and when this user can.
set -u
command -v chromium >/dev/null && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null
fi
command -v chromium >/dev/null || echo "chromium is not installed: browser tests will fail" >&2
exit 0
