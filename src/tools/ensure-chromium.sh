#!/bin/sh
# Playwright drives Debian's Chromium (never a downloaded browser). Install it when we
# can (root on Debian), otherwise say exactly what is missing.
set -eu
. "$(dirname "$0")/host-lib.sh"
# Where Debian's package puts it (ASYNCLAB_DEBIAN_CHROMIUM only moves it for the tests'
# simulated machines); CHROMIUM_PATH names another browser, which is never installed for you.
chromium=${CHROMIUM_PATH:-${ASYNCLAB_DEBIAN_CHROMIUM:-/usr/bin/chromium}}
[ -x "$chromium" ] && exit 0

if can_apt && [ -z "${CHROMIUM_PATH:-}" ]; then
  # shellcheck disable=SC2086
  apt_install "Debian's Chromium for the browser tests" $host_browser_packages
  [ -x "$chromium" ] && exit 0
  fail "apt-get installed $host_browser_packages but there is no $chromium: set CHROMIUM_PATH to the Chromium binary"
fi
fail "Chromium is missing at $chromium: run 'sudo apt-get install $host_browser_packages' (or set CHROMIUM_PATH to a Chromium binary)"
