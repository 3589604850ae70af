"""Runs script sandboxes inside Pyodide (the browser engine), through the same tracing
harness as the local runner (DESIGN §4, §6).

Pyodide's own event loop (WebLoop) hands every callback to the browser and cannot run
`asyncio.run()` from synchronous code. A lesson needs the real thing: CPython's
BaseEventLoop, stepping tasks one callback at a time on one thread, where `time.sleep`
freezes everything. In a script sandbox with no `needs` there is no I/O to wait for —
only timers — so the loop's selector can simply sleep until the next timer is due.
The worker runs the whole script synchronously and streams output as it happens.

Stop must work even while the lesson's code sleeps: Pyodide checks its interrupt
buffer between bytecodes, not inside one long C-level sleep, so sleeps are taken in
short slices. The loop still waits exactly as long, so timelines keep their shape.
"""
import asyncio
import os
import runpy
import sys
import time
import traceback

import _asynclab_trace

SLICE_S = 0.05  # longest uninterruptible sleep: Stop answers within this

try:  # Pyodide wraps asyncio.run and time.sleep to hand control to the browser: take the originals
    from pyodide import webloop as _webloop

    _real_sleep, _real_asyncio_run = _webloop._orig_sleep, _webloop._orig_run
except ImportError:  # plain CPython (the harness's own tests)
    _real_sleep, _real_asyncio_run = time.sleep, asyncio.run


def _sliced_sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        _real_sleep(min(left, SLICE_S))


_sliced_sleep.__name__ = _sliced_sleep.__qualname__ = "sleep"
_sliced_sleep.__doc__ = _real_sleep.__doc__


class _TimerSelector:
    """The only wait a timer-only loop needs: until the next scheduled callback."""

    def select(self, timeout):
        # None means nothing is scheduled: only Stop or the engine's deadline can end
        # the wait, as a real selector would wait for I/O that never comes.
        _sliced_sleep(SLICE_S if timeout is None else timeout)
        return []

    def close(self):
        pass


class BrowserEventLoop(asyncio.BaseEventLoop):
    """CPython's own loop machinery (scheduling, tasks, timers, debug mode) minus I/O."""

    def __init__(self):
        super().__init__()
        self._selector = _TimerSelector()

    def _process_events(self, event_list):
        pass

    def _write_to_self(self):
        pass  # nothing sleeps in select() that another thread must wake: there are no threads


class _BrowserLoopPolicy(getattr(asyncio.events, "_BaseDefaultEventLoopPolicy", None) or asyncio.events.BaseDefaultEventLoopPolicy):
    _loop_factory = BrowserEventLoop


def install(sink) -> None:
    """Once per interpreter, before the tracing harness patches new loops."""
    time.sleep = _sliced_sleep
    asyncio.run = _real_asyncio_run
    _set_policy = getattr(asyncio.events, "_set_event_loop_policy", None) or asyncio.set_event_loop_policy
    _set_policy(_BrowserLoopPolicy())
    _asynclab_trace.set_sink(sink)


def _lesson_frames(tb):
    """Tracebacks start at the lesson's code, as `python3 main.py` would show them."""
    work = os.environ["ASYNCLAB_WORK"] + os.sep
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith(work):
        tb = tb.tb_next
    return tb


def run(work: str, entry: str) -> int:
    """Runs one sandbox's entry as __main__ and returns its exit code."""
    import _asynclab_tracing

    _asynclab_trace.restart_clock()
    _asynclab_tracing.reset()
    # A warm interpreter: modules the previous run imported from its files must not leak in.
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(work + os.sep):
            del sys.modules[name]
    # Pyodide keeps its WebLoop marked as running; asyncio.run() would refuse to start.
    outer_loop = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    os.chdir(work)
    sys.path[0:0] = [work]
    sys.argv = [entry]
    code = 0
    try:
        runpy.run_path(os.path.join(work, entry), run_name="__main__")
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if exit_.code is not None and not isinstance(exit_.code, int):
            print(exit_.code, file=sys.stderr)
    except KeyboardInterrupt:
        code = 130
    except BaseException as error:  # noqa: BLE001 — report it the way python3 would
        traceback.print_exception(type(error), error, _lesson_frames(error.__traceback__) or error.__traceback__)
        code = 1
    finally:
        sys.path.remove(work)
        asyncio.events._set_running_loop(outer_loop)
        sys.stdout.flush()
        sys.stderr.flush()
    return code
