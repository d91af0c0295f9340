#!/usr/bin/env bash
# makemessages and compilemessages (and the translation tests) call GNU gettext's
# xgettext, msgmerge and msgfmt. Installs it with apt when missing and when this user can.
set -u
command -v msgfmt >/dev/null && command -v xgettext >/dev/null && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing GNU gettext for the translation catalogs"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq gettext >/dev/null
fi
command -v msgfmt >/dev/null || echo "gettext is not installed: translation tests will fail" >&2
exit 0
