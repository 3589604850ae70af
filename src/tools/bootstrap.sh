#!/bin/sh
# First step of `npm start` and `npm test`: make sure the npm dependencies (and with
# them Node 24 from the `node` devDependency) are installed and match the lock file.
# It runs under whatever Node started npm, so it stays plain POSIX sh.
set -eu
cd "$(dirname "$0")/../.."

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: install Node.js (with npm) 20 or newer, e.g. 'sudo apt-get install nodejs npm'." >&2
  exit 1
fi

if [ ! -x node_modules/.bin/astro ] || [ ! -x node_modules/.bin/node ] ||
  [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing npm dependencies…"
  # `npm install`, not `npm ci`: the registry here lacks some other platforms' optional
  # binaries (e.g. compiler-binding-android-arm64), which npm leaves out of the lock file
  # and `npm ci` then reports as "missing from lock file". With an in-sync lock, install
  # resolves exactly the locked versions.
  npm install --no-audit --no-fund --loglevel=error
fi

version=$(node_modules/.bin/node --version)
case "$version" in
  v24.*) ;;
  *)
    echo "Expected Node 24 from the 'node' devDependency, found $version in node_modules/.bin: run 'rm -rf node_modules && npm install'." >&2
    exit 1
    ;;
esac
