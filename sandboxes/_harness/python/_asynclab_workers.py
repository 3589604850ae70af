"""Serves a sandbox with gunicorn and its worker processes, as `gunicorn main:app` would
from the sandbox's folder (it reads `gunicorn.conf.py` from there).

Process tree: this harness process → gunicorn's master (forked, so it keeps the
harness's tracing) → N workers (forked by the master; each runs its own event loop
and inherits the trace fd and clock). The load driver is a child of the harness
process, not of the master, whose SIGCHLD handler reaps every child it has.

What the harness changes in the config: it binds 127.0.0.1 on a free port, never
daemonizes, runs the workers' loops on asyncio (uvloop's callbacks cannot be
traced), and chains its own hooks (`when_ready`, `post_fork`) before the file's.

In the trace, each worker's handlers share one lane per worker, `handler w2 · pid 7`
(complete spans: several handlers of one worker may overlap), each worker's event-loop
blocks go to its own loop lane, `event loop w2 · pid 7`, and carry its pid and tag,
and task lanes get the worker's tag. The `ready` event comes once every worker's
server has started.
"""
import asyncio
import logging
import os
import select
import signal
import sys
import time

import _asynclab_streams
import _asynclab_traceback
import _asynclab_trace
import _asynclab_tracing
from _asynclab_trace import emit, now_us

READY_TIMEOUT_S = 20
STOP_TIMEOUT_S = 10

_ready_fd = None  # write end of the readiness pipe, in the master and the workers
_worker = {"age": None}


def _announce(line: str) -> None:
    if _ready_fd is not None:
        try:
            os.write(_ready_fd, (line + "\n").encode())
        except OSError:
            pass


def _tag_trace(age: int) -> None:
    """In a worker: give its spans lanes that cannot collide with another worker's."""
    pid = os.getpid()
    tag = f"w{age}"
    handler_lane = f"handler {tag} · pid {pid}"
    loop_lane = f"event loop {tag} · pid {pid}"
    original = _asynclab_trace.emit
    open_spans = {}

    def emit_tagged(event: dict) -> None:
        lane = event.get("lane", "")
        if lane.startswith("handler "):
            if event.get("ph") == "B":
                open_spans[lane] = event
                return
            if event.get("ph") == "E" and lane in open_spans:
                begin = open_spans.pop(lane)
                args = {**begin.get("args", {}), **event.get("args", {}), "pid": pid, "worker": tag}
                original({"ts": begin["ts"], "ph": "X", "dur": max(0, event["ts"] - begin["ts"]), "cat": begin.get("cat", "handler"),
                          "lane": handler_lane, "name": begin["name"], "args": args})
                return
        elif lane == "event loop":
            event = {**event, "lane": loop_lane, "args": {**event.get("args", {}), "pid": pid, "worker": tag}}
        elif lane.startswith("task "):
            event = {**event, "lane": f"{lane} · {tag}"}
        original(event)

    # Each tracing module imported `emit` by name: point those names here.
    _asynclab_tracing.emit = emit_tagged
    _asynclab_streams.emit = emit_tagged


def _patch_uvicorn_startup() -> None:
    """A worker is ready once its uvicorn server has started (lifespan done, accepting)."""
    import uvicorn.server

    original = uvicorn.server.Server.startup

    async def startup(self, *args, **kwargs):
        await original(self, *args, **kwargs)
        if self.started and _worker["age"] is not None:
            # From the next callback on: the rest of this one is still the worker's start-up.
            asyncio.get_running_loop().call_soon(setattr, _asynclab_tracing, "report_busy", True)
            _announce(f"ready {os.getpid()} {_worker['age']}")

    uvicorn.server.Server.startup = startup


def _run_master(config_file: str, load_app) -> None:
    """In the forked child: gunicorn's arbiter, configured from the sandbox's file."""
    from gunicorn.app.base import Application

    def when_ready(server):
        port = server.LISTENERS[0].sock.getsockname()[1]
        _announce(f"port {port} {server.num_workers}")

    def post_fork(server, worker):
        _worker["age"] = worker.age
        _tag_trace(worker.age)
        # What the worker logs for a failing request or boot loses the harness's frames.
        _asynclab_traceback.tidy_logged_tracebacks(logging.getLogger("uvicorn.error"), logging.getLogger("gunicorn.error"))
        config = getattr(worker, "config", None)  # uvicorn's worker classes
        if config is not None and hasattr(config, "loop"):
            config.loop = "asyncio"

    class SandboxGunicorn(Application):
        def init(self, parser, opts, args):
            return None

        def load_config(self):
            self.load_config_from_file(config_file)
            theirs = {name: self.cfg.settings[name].get() for name in ("when_ready", "post_fork")}

            def chained_when_ready(server):
                when_ready(server)
                theirs["when_ready"](server)

            def chained_post_fork(server, worker):
                post_fork(server, worker)
                theirs["post_fork"](server, worker)

            self.cfg.set("bind", ["127.0.0.1:0"])
            self.cfg.set("daemon", False)
            self.cfg.set("pidfile", None)
            self.cfg.set("reload", False)
            self.cfg.set("when_ready", chained_when_ready)
            self.cfg.set("post_fork", chained_post_fork)

        def load(self):
            return load_app()

    SandboxGunicorn(prog="gunicorn").run()


def serve(config_file: str, load_app, run_load) -> int:
    global _ready_fd
    _patch_uvicorn_startup()
    read_fd, _ready_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    master = os.fork()
    if master == 0:
        code = 1
        try:
            os.close(read_fd)
            _run_master(config_file, load_app)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(_ready_fd)
    _ready_fd = None

    port, wanted, ready = None, None, []
    buffer = b""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while wanted is None or len(ready) < wanted:
        done, status = os.waitpid(master, os.WNOHANG)
        if done:
            print("[server] gunicorn stopped before its workers were ready (its messages are above)", file=sys.stderr, flush=True)
            return os.waitstatus_to_exitcode(status) or 1
        if time.monotonic() > deadline:
            print(f"[server] gunicorn's workers were not ready after {READY_TIMEOUT_S} s", file=sys.stderr, flush=True)
            _stop(master)
            return 1
        readable, _, _ = select.select([read_fd], [], [], 0.1)
        if not readable:
            continue
        chunk = os.read(read_fd, 4096)
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            words = line.decode().split()
            if words[:1] == ["port"]:
                port, wanted = int(words[1]), int(words[2])
            elif words[:1] == ["ready"]:
                ready.append((int(words[2]), int(words[1])))
    ready.sort()
    pids = [pid for _, pid in ready]
    emit({"ts": now_us(), "ph": "i", "cat": "harness", "name": "ready", "lane": "server",
          "args": {"port": port, "workers": len(pids), "pids": pids}})
    listing = ", ".join(f"w{age} pid {pid}" for age, pid in ready)
    print(f"[server] gunicorn listening on http://127.0.0.1:{port} with {len(pids)} worker{'s' if len(pids) != 1 else ''} ({listing})", flush=True)

    code = run_load(port)
    stopped = _stop(master)
    os.close(read_fd)
    return code if code else stopped


def _stop(master: int) -> int:
    """SIGTERM to the master (graceful: it stops its workers), SIGKILL if it takes too long."""
    try:
        os.kill(master, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        done, status = os.waitpid(master, os.WNOHANG)
        if done:
            return 0 if os.waitstatus_to_exitcode(status) == 0 else 1
        time.sleep(0.05)
    os.kill(master, signal.SIGKILL)
    os.waitpid(master, 0)
    print(f"[server] gunicorn did not stop within {STOP_TIMEOUT_S} s and was killed", file=sys.stderr, flush=True)
    return 1
