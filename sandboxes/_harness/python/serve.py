"""Runs a Python server sandbox.

Imports the ASGI app named by the entry (`main:app`), serves it with uvicorn on
the asyncio loop (never uvloop, so tracing sees every callback) on an ephemeral
loopback port, reports `ready` on the trace channel, then starts the load
driver as a separate process (its own interpreter and event loop, so its
timings are true client timings), waits for it, and shuts the server down.

With a live preview (ASYNCLAB_PREVIEW_FD set by the runner), it also starts the
preview bridge (preview.py) before `ready`, and after the load keeps serving
until the runner ends the run (Stop, the wall-time limit, the page leaving).

A sandbox with a `gunicorn.conf.py` is served the way production serves it:
by gunicorn, with the worker processes that file asks for (see _asynclab_workers).
"""
import asyncio
import importlib
import logging
import os
import socket
import subprocess
import sys
import time

# Whole lines, one write each: the server's output shares the pipe with the load driver's
# (and with other workers'), and `print` otherwise writes the text and its newline apart.
for _stream in (sys.stdout, sys.stderr):
    _stream.reconfigure(line_buffering=True, write_through=False)

harness_dir = os.path.dirname(os.path.abspath(__file__))
work = os.environ.get("ASYNCLAB_WORK", os.getcwd())
sys.path[0] = work
sys.path.append(harness_dir)

from _asynclab_trace import emit, now_us, trace_fds  # noqa: E402
import _asynclab_traceback  # noqa: E402
import _asynclab_tracing  # noqa: E402
import _asynclab_streams  # noqa: E402

# An uncaught exception (the app failing to import) is printed from the app's own frames on.
_asynclab_traceback.install(work)

_asynclab_tracing.install()
if os.environ.get("ASYNCLAB_TRACE", "1") != "0":
    _asynclab_streams.install()
_asynclab_tracing.report_busy = False  # until the app is up: importing it and starting uvicorn is not the lesson

import _asynclab_upstream  # noqa: E402

_upstream = _asynclab_upstream.start_if_needed()

import uvicorn  # noqa: E402


def load_app():
    module_name, _, attribute = os.environ["ASYNCLAB_ENTRY"].partition(":")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        sys.exit(f"{module_name}.py has no `{attribute}`: the sandbox entry is {module_name}:{attribute}")


PREVIEW_FD = int(os.environ["ASYNCLAB_PREVIEW_FD"]) if os.environ.get("ASYNCLAB_PREVIEW_FD") else None
PREVIEW_NOTE = "[server] the load is done; the server keeps running for the live preview until you press Stop"


def start_preview_bridge(port: int):
    """The bridge from the runner's socket to the app's port (preview.py); None without a preview."""
    if PREVIEW_FD is None:
        return None
    bridge = subprocess.Popen(
        [sys.executable, "-u", "-s", os.path.join(harness_dir, "preview.py")],
        env={**os.environ, "ASYNCLAB_PORT": str(port)},
        pass_fds=(PREVIEW_FD,),
    )
    os.close(PREVIEW_FD)  # the bridge holds it now; nothing else of the sandbox needs it
    return bridge


def run_load(port: int) -> int:
    """The load driver, started and awaited without an event loop (the gunicorn mode has none here)."""
    start_preview_bridge(port)
    driver = subprocess.Popen(
        [sys.executable, "-u", "-s", os.path.join(harness_dir, "load.py")],
        env={**os.environ, "ASYNCLAB_PORT": str(port)},
        pass_fds=trace_fds(),
    )
    code = driver.wait()
    if PREVIEW_FD is not None:
        print(PREVIEW_NOTE, flush=True)
        while True:  # until the runner ends the run
            time.sleep(3600)
    return code


async def main() -> int:
    app = load_app()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, loop="asyncio", http="h11", lifespan="auto", log_level="warning", access_log=False)
    # Config set up uvicorn's logging; what it logs for a failing request loses our tracing wrapper's frame.
    _asynclab_traceback.tidy_logged_tracebacks(logging.getLogger("uvicorn"), logging.getLogger("uvicorn.error"))
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if serving.done():
            return 1  # startup failed; uvicorn has printed why
        await asyncio.sleep(0.005)

    start_preview_bridge(port)
    _asynclab_tracing.report_busy = True
    emit({"ts": now_us(), "ph": "i", "cat": "harness", "name": "ready", "lane": "server", "args": {"port": port}})
    print(f"[server] listening on http://127.0.0.1:{port}", flush=True)

    driver = await asyncio.create_subprocess_exec(
        sys.executable, "-u", "-s", os.path.join(harness_dir, "load.py"),
        env={**os.environ, "ASYNCLAB_PORT": str(port)},
        pass_fds=trace_fds(),
    )
    code = await driver.wait()
    if PREVIEW_FD is not None:
        print(PREVIEW_NOTE, flush=True)
        await serving  # until the runner ends the run
    server.should_exit = True
    await serving
    return code


if __name__ == "__main__":
    config_file = os.path.join(work, "gunicorn.conf.py")
    if os.path.exists(config_file):
        import _asynclab_workers  # noqa: E402

        sys.exit(_asynclab_workers.serve(config_file, load_app, run_load))
    sys.exit(asyncio.run(main()))
