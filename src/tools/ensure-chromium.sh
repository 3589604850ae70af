#!/bin/sh
# Playwright drives Debian's Chromium (never a downloaded browser). Install it when we
# can (root on Debian), otherwise say exactly what is missing.
set -eu
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
[ -x "$chromium" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests (apt-get)…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  [ -x "$chromium" ] && exit 0
fi
echo "Chromium is missing at $chromium: run 'sudo apt-get install chromium' (or set CHROMIUM_PATH to a Chromium binary)." >&2
exit 1
