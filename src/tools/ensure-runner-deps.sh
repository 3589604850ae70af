#!/bin/sh
# The local runner needs bubblewrap (isolation), prlimit (util-linux) and a Python 3 that
# imports fastapi, uvicorn, httpx, aiosqlite, SQLAlchemy (async, with greenlet), websockets (uvicorn's
# WebSocket support and the load driver's WebSocket client), gunicorn (sandboxes with worker
# processes), aiohttp (the other async HTTP client) and celery (a job queue's worker processes)
# (DESIGN §5, §10).
# Sandboxes that need a service also want PostgreSQL, Redis and their Python drivers
# (asyncpg, redis); without them only those sandboxes are refused (service-unavailable),
# so their absence is reported but does not stop anything.
# Install Debian's packages when we can (root with apt-get); otherwise say exactly what to run.
set -eu

python=${RUNNER_PYTHON:-}
imports='import fastapi, uvicorn, httpx, aiosqlite, sqlalchemy, greenlet, websockets, gunicorn, aiohttp, celery'
packages="bubblewrap python3 python3-fastapi python3-uvicorn python3-httpx python3-aiosqlite python3-sqlalchemy python3-greenlet python3-websockets python3-gunicorn python3-aiohttp python3-celery"
service_packages="postgresql redis-server python3-asyncpg python3-redis"

python_for() { # the interpreter the runner will use: RUNNER_PYTHON, else the first python3 with the lesson stack
  if [ -n "$python" ]; then echo "$python"; return; fi
  for candidate in $(command -v python3 2>/dev/null) /usr/bin/python3; do
    [ -x "$candidate" ] && "$candidate" -c "$imports" 2>/dev/null && { echo "$candidate"; return; }
  done
}

have_python() {
  if [ -n "$python" ]; then "$python" -c "$imports" 2>/dev/null; return; fi
  [ -n "$(python_for)" ]
}

# What the services lack, as Debian package names (empty when all is there).
missing_services() {
  out=""
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || out="$out postgresql"
  [ -x /usr/bin/redis-server ] || out="$out redis-server"
  py=$(python_for)
  if [ -n "$py" ]; then
    "$py" -c 'import asyncpg' 2>/dev/null || out="$out python3-asyncpg"
    "$py" -c 'import redis.asyncio' 2>/dev/null || out="$out python3-redis"
  fi
  echo "$out"
}

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

missing=""
command -v bwrap >/dev/null 2>&1 || [ -x /usr/bin/bwrap ] || missing="$missing bwrap"
[ -x /usr/bin/prlimit ] || command -v prlimit >/dev/null 2>&1 || missing="$missing prlimit"
have_python || missing="$missing python"
services_missing=$(missing_services)
[ -z "$missing" ] && [ -z "$services_missing" ] && exit 0

if [ -n "$python" ] && [ "$missing" = " python" ]; then
  echo "RUNNER_PYTHON=$python cannot '$imports': install those modules for it, or unset RUNNER_PYTHON." >&2
  exit 1
fi

if can_apt && [ -z "${ASYNCLAB_DEPS_TRIED:-}" ]; then
  if [ -n "$missing" ]; then
    echo "Installing the runner's Debian packages ($packages util-linux$services_missing)…"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages util-linux $services_missing >/dev/null
  else
    # Optional: a failure here leaves only the service sandboxes unable to run.
    echo "Installing the Debian packages for sandboxes with services ($services_missing )…"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $services_missing >/dev/null; } ||
      echo "(could not install them; continuing without)" >&2
  fi
  # Debian's postgresql and redis-server packages also set up system services of their own;
  # the runner uses neither (it starts private, socket-only servers).
  ASYNCLAB_DEPS_TRIED=1 exec "$0" "$@"
fi

if [ -n "$missing" ]; then
  echo "The local runner needs:$missing. Run: sudo apt-get install $packages util-linux$services_missing" >&2
  echo "(or set RUNNER_PYTHON to a python3 that can '$imports')" >&2
  exit 1
fi

# Only the services are missing: their sandboxes will say so; everything else runs.
echo "Sandboxes that need PostgreSQL or Redis will not run here; missing:$services_missing. Run: sudo apt-get install$services_missing" >&2
exit 0
