# Shared by the set-up scripts (sourced, POSIX sh). Their one promise: never end
# non-zero without one line saying why. `fail` says it and exits; the EXIT trap catches
# any other non-zero end (a command that failed under `set -e`) and names the step.
. "$(dirname "$0")/host-packages.sh"

# Parameter expansion, not basename: a command failing here, before the trap below is
# set, would end the script under `set -e` without a word.
asynclab_script=${0##*/}
asynclab_script=${asynclab_script%.sh}
asynclab_step="starting"
asynclab_said=""

step() { asynclab_step=$1; }

fail() {
  asynclab_said=1
  echo "$asynclab_script: $*" >&2
  exit 1
}

asynclab_on_exit() {
  rc=$?
  if [ "$rc" -ne 0 ] && [ -z "$asynclab_said" ]; then
    echo "$asynclab_script: stopped with exit code $rc while $asynclab_step (no other message was given)" >&2
  fi
}
trap asynclab_on_exit EXIT

is_root() { [ "$(id -u)" = 0 ]; }
can_apt() { is_root && command -v apt-get >/dev/null 2>&1; }

# apt_install WHAT PACKAGE…: installs with apt-get, or fails naming what did not work and what to run.
apt_install() {
  what=$1
  shift
  echo "Installing $what with apt-get: $*"
  step "running apt-get update"
  if ! apt-get update -qq >/dev/null 2>&1; then
    # Not fatal: the lists may be recent enough; the install below says if they are not.
    echo "$asynclab_script: 'apt-get update' failed; trying the install with the package lists as they are" >&2
  fi
  step "installing $*"
  # A fresh file of our own (not a fixed name in /tmp: concurrent runs, and root writing
  # through a link someone else planted there).
  apt_log=$(mktemp "${TMPDIR:-/tmp}/asynclab-apt.XXXXXX") ||
    fail "cannot create a temporary file for apt-get's output in ${TMPDIR:-/tmp}: run 'apt-get install $*'"
  set +e
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >"$apt_log" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    # Best effort: a failing grep or tail must not replace apt-get's reason by the trap's generic line.
    reason=$(grep -E '^(E|W):' "$apt_log" | tail -n 1) || reason=""
    rm -f "$apt_log" || true
    fail "apt-get could not install $* (exit $rc${reason:+: $reason}); run 'apt-get install $*' and read its message"
  fi
  rm -f "$apt_log" || true
}
