#!/bin/sh
# The local runner's host needs: bubblewrap (isolation), util-linux (prlimit, setpriv) and
# mmdebstrap, which builds the pinned sandbox runtime (a Debian root with Python, FastAPI,
# PostgreSQL and Redis; src/runtime/build.ts) once per package list. Installs the
# packages when it can (root with apt-get), otherwise names exactly what to install;
# then makes sure the runtime is built, checked and cached.
set -eu
. "$(dirname "$0")/host-lib.sh"
cd "$(dirname "$0")/../.."

step "looking for the runner's programs"
missing=""
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
{ command -v prlimit >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1; } || missing="$missing util-linux"
command -v mmdebstrap >/dev/null 2>&1 || missing="$missing mmdebstrap"
if ! is_root && ! command -v newuidmap >/dev/null 2>&1; then missing="$missing $host_runner_packages_unprivileged"; fi
missing=${missing# }

if [ -n "$missing" ]; then
  if can_apt && [ -z "${ASYNCLAB_DEPS_TRIED:-}" ]; then
    # shellcheck disable=SC2086 # a list of package names
    apt_install "the runner's Debian packages" $missing
    # By its path from the project root, where we are now: "$0" may be relative to
    # wherever the script was started from.
    ASYNCLAB_DEPS_TRIED=1 exec sh src/tools/ensure-runner-deps.sh "$@"
  fi
  if can_apt; then
    fail "still missing after installing them: $missing (is the PATH missing /usr/bin?)"
  fi
  fail "the local runner needs: $missing. Run: sudo apt-get install $missing"
fi

step "preparing the sandbox runtime"
node=node_modules/.bin/node
[ -x "$node" ] || fail "$node is missing: run 'npm ci' first (npm start and npm test do)"
set +e
"$node" src/runtime/build.ts
rc=$?
set -e
# build.ts ends with 3 only after printing why; any other code (a crash, a kill, a Node
# that ended 1 without a word) gets our own line.
[ "$rc" -eq 0 ] && exit 0
[ "$rc" -eq 3 ] && asynclab_said=1 && exit 1
case $rc in
  1) why="crashed?" ;;
  *) why="killed?" ;;
esac
fail "building the sandbox runtime stopped with exit code $rc ($why); run 'node_modules/.bin/node src/runtime/build.ts' to see why"
