#!/bin/sh
# First step of `npm start` and `npm test`: make sure the npm dependencies (and with
# them Node 24 from the `node` devDependency) are installed and match the lock file.
# It runs under whatever Node started npm, so it stays plain POSIX sh.
set -eu
. "$(dirname "$0")/host-lib.sh"
cd "$(dirname "$0")/../.."

step "looking for Node.js and npm"
command -v npm >/dev/null 2>&1 || fail "npm is missing: install Node.js 18 or newer with npm (Debian: sudo apt-get install $host_node_packages)"
command -v node >/dev/null 2>&1 || fail "node is missing: install Node.js 18 or newer (Debian: sudo apt-get install $host_node_packages)"
host_version=$(node --version 2>/dev/null || echo unknown)
host_major=$(echo "$host_version" | sed -n 's/^v\([0-9][0-9]*\)\..*/\1/p')
host_minor=$(echo "$host_version" | sed -n 's/^v[0-9][0-9]*\.\([0-9][0-9]*\).*/\1/p')
[ -n "$host_major" ] || fail "cannot tell the version of 'node' ($host_version): install Node.js 18 or newer"
# The host's Node only runs `npm ci`; every npm script then runs on the project's own Node 24.
# 18 is what Debian 12 ships (`apt-get install nodejs npm`), and its npm 9 installs the lock.
[ "$host_major" -ge 18 ] || fail "Node.js $host_version is too old to install the project: install Node.js 18 or newer (the project then brings its own Node 24)"

if [ ! -x node_modules/.bin/astro ] || [ ! -x node_modules/.bin/node ] ||
  [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing npm dependencies…"
  step "running npm ci"
  # `npm ci`: exactly the committed lock, and never a rewrite of it. `npm install` would
  # rewrite it in the dialect of whatever npm the machine has (Debian 13's npm 9 drops
  # the `libc` fields npm 11 writes), leaving a newcomer's clone changed.
  set +e
  npm ci --no-audit --no-fund --loglevel=error
  rc=$?
  set -e
  [ "$rc" -eq 0 ] || fail "npm ci failed (exit $rc, its message is above): check that the npm registry is reachable, then run 'npm ci'"
  # Native bindings (rolldown's, Astro's compiler's) are optional packages that declare
  # Node ^20.19 || >=22.12; an older host Node (Debian 12's 18) makes npm skip them
  # without a word. The first pass brought Node 24: run the same npm once more on it.
  if [ "$host_major" -lt 20 ] || { [ "$host_major" -eq 20 ] && [ "${host_minor:-0}" -lt 19 ]; } ||
    { [ "$host_major" -eq 22 ] && [ "${host_minor:-0}" -lt 12 ]; } || [ "$host_major" -eq 21 ]; then
    step "running npm ci again on Node 24"
    npm_cli=${npm_execpath:-}
    if [ -z "$npm_cli" ]; then
      npm_path=$(command -v npm)
      npm_cli=$(readlink -f "$npm_path" 2>/dev/null || echo "$npm_path")
    fi
    [ -f "$npm_cli" ] || fail "cannot find npm's own script (npm_execpath is empty, npm is $(command -v npm)): run 'npm start' through npm, or install Node.js 20.19 or newer"
    echo "Node.js $host_version skips the native packages that need Node 20.19+: installing again on the project's Node 24…"
    set +e
    node_modules/.bin/node "$npm_cli" ci --no-audit --no-fund --loglevel=error
    rc=$?
    set -e
    [ "$rc" -eq 0 ] || fail "npm ci on Node 24 failed (exit $rc, its message is above); or install Node.js 20.19 or newer and run 'npm ci'"
  fi
fi

step "checking Node 24"
version=$(node_modules/.bin/node --version 2>/dev/null || echo "none")
case "$version" in
  v24.*) ;;
  *) fail "expected Node 24 from the 'node' devDependency, found $version in node_modules/.bin: run 'rm -rf node_modules && npm ci'" ;;
esac
