#!/bin/sh
# The local runner needs bubblewrap (isolation), prlimit (util-linux) and a Python 3 that
# imports fastapi, uvicorn, httpx, aiosqlite, SQLAlchemy (async, with greenlet), websockets (uvicorn's
# WebSocket support and the load driver's WebSocket client) and gunicorn (sandboxes with worker processes)
# (DESIGN §5, §10). Install Debian's packages when we can (root with apt-get); otherwise say exactly what to run.
set -eu

python=${RUNNER_PYTHON:-}
imports='import fastapi, uvicorn, httpx, aiosqlite, sqlalchemy, greenlet, websockets, gunicorn'
packages="bubblewrap python3 python3-fastapi python3-uvicorn python3-httpx python3-aiosqlite python3-sqlalchemy python3-greenlet python3-websockets python3-gunicorn"

have_python() {
  if [ -n "$python" ]; then "$python" -c "$imports" 2>/dev/null; return; fi
  for candidate in $(command -v python3 2>/dev/null) /usr/bin/python3; do
    [ -x "$candidate" ] && "$candidate" -c "$imports" 2>/dev/null && return 0
  done
  return 1
}

missing=""
command -v bwrap >/dev/null 2>&1 || [ -x /usr/bin/bwrap ] || missing="$missing bwrap"
[ -x /usr/bin/prlimit ] || command -v prlimit >/dev/null 2>&1 || missing="$missing prlimit"
have_python || missing="$missing python"
[ -z "$missing" ] && exit 0

if [ -n "$python" ] && [ "$missing" = " python" ]; then
  echo "RUNNER_PYTHON=$python cannot '$imports': install those modules for it, or unset RUNNER_PYTHON." >&2
  exit 1
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing the runner's Debian packages ($packages util-linux)…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages util-linux >/dev/null
  exec "$0" "$@"
fi

echo "The local runner needs:$missing. Run: sudo apt-get install $packages util-linux" >&2
echo "(or set RUNNER_PYTHON to a python3 that can '$imports')" >&2
exit 1
