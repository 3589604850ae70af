"""Trace side channel of the AsyncLab harness (DESIGN §6).

Events are one JSON object per line, Chrome-Trace-like: ts (µs since the run
started, on the monotonic clock every process of the run shares), ph, lane, cat,
name, args. Under the runner they go to fd 3; where no fd 3 exists they go to
stdout behind a prefix the engines strip. In the browser (Pyodide) the engine
hands in a sink that posts each line to the page.
"""
import json
import os
import time

_FD = int(os.environ.get("ASYNCLAB_TRACE_FD", "3"))
_T0_NS = int(os.environ.get("ASYNCLAB_T0_NS") or time.monotonic_ns())
PREFIX = "\x1easynclab-trace "

_sink = None  # set by the browser engine: a callable taking one JSON line

try:
    os.fstat(_FD)
    _to_fd = True
except OSError:
    _to_fd = False


def now_us() -> int:
    """Microseconds since the run started."""
    return (time.monotonic_ns() - _T0_NS) // 1000


def set_sink(sink) -> None:
    """Send every event to `sink(line)` instead of fd 3 or stdout."""
    global _sink
    _sink = sink


def restart_clock() -> None:
    """A warm interpreter runs many sandboxes: each run's timeline starts at zero."""
    global _T0_NS
    _T0_NS = time.monotonic_ns()


def emit(event: dict) -> None:
    line = json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str)
    try:
        if _sink is not None:
            _sink(line)
        elif _to_fd:
            os.write(_FD, (line + "\n").encode("utf-8"))
        else:
            print(PREFIX + line, flush=True)
    except OSError:
        pass  # the reader is gone; the run is ending


def trace_fds() -> tuple:
    """File descriptors a child process of the harness must keep to write the trace."""
    return (_FD,) if _to_fd else ()
