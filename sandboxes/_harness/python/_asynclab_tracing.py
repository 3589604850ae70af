"""What the Python harness records, with no change to lesson code (DESIGN §6).

- task lanes: each asyncio task's lifetime (a task factory names and marks the
  lesson's own tasks), and the segments in which it was actually running on the loop;
- the event-loop lane: callbacks that held the loop longer than a threshold,
  naming the culprit (the FastAPI handler or the task that ran);
- handler lanes (FastAPI): each request's handler, its path, sync/async kind
  and the thread that ran it (the endpoint is wrapped after FastAPI has read its
  signature, so parameters and dependencies work as before);
- thread lanes: work items run by thread pools (asyncio.to_thread,
  run_in_executor, AnyIO/Starlette's pool) with real thread names and ids;
- process lanes: work items run by process pools, with real pids.

Set ASYNCLAB_TRACE=0 to switch it all off (the benchmark measures the cost).
"""
import asyncio
import collections
import concurrent.futures
import functools
import os
import threading
import time
import weakref

from _asynclab_hooks import when_imported
from _asynclab_trace import emit, now_us

BUSY_US = int(os.environ.get("ASYNCLAB_BUSY_US", "2000"))
# Steps shorter than this are left out of the task lanes: invisible on a timeline,
# and a busy loop of short steps would otherwise flood the trace.
STEP_MIN_US = int(os.environ.get("ASYNCLAB_STEP_MIN_US", "100"))

_names: dict = {}
_name_counts: collections.Counter = collections.Counter()
# The FastAPI handler a request's task is running, for the loop lane's culprit. Weak: a strong
# key kept every request's finished Task (and what it referenced) alive for the whole run.
_handler_of_task: "weakref.WeakKeyDictionary[asyncio.Task, str]" = weakref.WeakKeyDictionary()


def _display_name(coro) -> str:
    base = getattr(coro, "__qualname__", None) or type(coro).__name__
    base = base.replace(".<locals>.", ".")
    _name_counts[base] += 1
    n = _name_counts[base]
    return base if n == 1 else f"{base}#{n}"


# Tasks of the lesson's own code, by task, with their lane name. A task's running
# segments are the loop callbacks that step it, timed in Handle._run below: one timing
# per callback serves both the task lane and the event-loop lane.
_traced_tasks: "weakref.WeakKeyDictionary[asyncio.Task, str]" = weakref.WeakKeyDictionary()


_WORK = os.path.realpath(os.environ.get("ASYNCLAB_WORK", os.getcwd()))


def _is_lesson_code(coro) -> bool:
    """Tasks of the sandbox's own code get lanes; asyncio's and the server's internals do not."""
    code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
    return bool(code) and os.path.realpath(code.co_filename).startswith(_WORK + os.sep)


def _hide_factory_frames(task):
    """In debug mode a task remembers where it was created ("created at ..."): point past this
    factory and loop.create_task, as asyncio does for its own frames when there is no factory."""
    tb = getattr(task, "_source_traceback", None)
    while tb and (os.path.basename(tb[-1].filename) == "_asynclab_tracing.py"
                  or (tb[-1].name == "create_task" and tb[-1].filename.endswith(os.path.join("asyncio", "base_events.py")))):
        del tb[-1]
    return task


def _task_factory(loop, coro, **kwargs):
    if not _is_lesson_code(coro):
        return _hide_factory_frames(asyncio.Task(coro, loop=loop, **kwargs))
    name = _display_name(coro)
    task = _hide_factory_frames(asyncio.Task(coro, loop=loop, **kwargs))
    if task.get_name().startswith("Task-"):
        task.set_name(name)
    _traced_tasks[task] = name
    # Begin/end rather than one complete event: a run killed mid-way still shows its open tasks.
    emit({"ts": now_us(), "ph": "B", "cat": "task", "lane": f"task {name}", "name": name})

    def done(t):
        emit({"ts": now_us(), "ph": "E", "cat": "task", "lane": f"task {name}", "name": name, "args": {"cancelled": t.cancelled()}})

    task.add_done_callback(done)
    return task


def _culprit(callback) -> str:
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        name = _handler_of_task.get(owner) or owner.get_name()
        if name.startswith("Task-"):  # an untraced task: say what it runs
            name = getattr(owner.get_coro(), "__qualname__", name)
        return name
    return getattr(callback, "__qualname__", repr(callback))[:120]


# The server harness turns this on once the app is ready: its own start-up is not the lesson.
report_busy = True


def _patch_loop_callbacks() -> None:
    original = asyncio.events.Handle._run

    def _run(self):
        # Read before it runs: asyncio may clear the handle's callback once it has run
        # (Python 3.13 does for a task's step), and the culprit would read as "None".
        callback = self._callback
        started = now_us()
        try:
            return original(self)
        finally:
            took = now_us() - started
            if took >= STEP_MIN_US:
                owner = getattr(callback, "__self__", None)
                name = _traced_tasks.get(owner) if isinstance(owner, asyncio.Task) else None
                if name is not None:
                    emit({"ts": started, "ph": "X", "dur": took, "cat": "task-run", "lane": f"task {name}", "name": name})
                if took >= BUSY_US and report_busy:
                    culprit = _culprit(callback)
                    emit({"ts": started, "ph": "X", "dur": took, "cat": "loop-busy", "lane": "event loop", "name": culprit, "args": {"culprit": culprit}})

    asyncio.events.Handle._run = _run


def _install_on_new_loops() -> None:
    policy = asyncio.get_event_loop_policy()
    original_new = policy.new_event_loop

    def new_event_loop():
        loop = original_new()
        loop.set_task_factory(_task_factory)
        return loop

    policy.new_event_loop = new_event_loop
    _pass_names_to_the_factory()


def _pass_names_to_the_factory() -> None:
    """CPython 3.13.5's create_task calls `task.set_name(name)` after a task factory, even
    when no name was given, so every task would be called "None". Hand the name to our
    factory instead (as the loop does when there is no factory), and leave the loop's own
    path for any other factory the lesson code sets."""
    original = asyncio.base_events.BaseEventLoop.create_task

    def create_task(self, coro, *, name=None, context=None, **kwargs):
        if self.get_task_factory() is not _task_factory:
            return original(self, coro, name=name, context=context, **kwargs)
        self._check_closed()
        if context is not None:
            kwargs["context"] = context
        if name is not None:
            kwargs["name"] = name
        return _task_factory(self, coro, **kwargs)

    asyncio.base_events.BaseEventLoop.create_task = create_task


def _current_asyncio_task():
    """The running asyncio task, or None where no asyncio loop runs (AnyIO's trio backend, a
    coroutine driven by hand): the handler then simply gets no culprit bookkeeping."""
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def _thread_lane() -> tuple:
    thread = threading.current_thread()
    return f"thread {thread.name} ({threading.get_native_id()})", thread.name, threading.get_native_id()


def _traced_in_thread(fn, label):
    if getattr(fn, "_asynclab_traced", False):
        return fn

    @functools.wraps(fn)
    def run(*args, **kwargs):
        lane, thread_name, tid = _thread_lane()
        started = now_us()
        try:
            return fn(*args, **kwargs)
        finally:
            took = now_us() - started
            if took >= STEP_MIN_US:
                emit({"ts": started, "ph": "X", "dur": took, "cat": "thread", "lane": lane, "name": label,
                      "args": {"thread": thread_name, "tid": tid}})

    run._asynclab_traced = True
    return run


def _label(fn) -> str:
    inner = fn
    if isinstance(fn, functools.partial):
        inner = fn.func
        # asyncio.to_thread submits partial(context.run, func, ...): name the func.
        if getattr(inner, "__name__", "") == "run" and type(getattr(inner, "__self__", None)).__name__ == "Context" and fn.args:
            inner = fn.args[0]
    return getattr(inner, "__qualname__", None) or getattr(inner, "__name__", None) or type(inner).__name__


def _patch_thread_pools() -> None:
    original_submit = concurrent.futures.ThreadPoolExecutor.submit

    def submit(self, fn, /, *args, **kwargs):
        return original_submit(self, _traced_in_thread(fn, _label(fn)), *args, **kwargs)

    concurrent.futures.ThreadPoolExecutor.submit = submit

    def patch_anyio(to_thread):
        original_run_sync = to_thread.run_sync

        async def run_sync(func, *args, **kwargs):
            return await original_run_sync(_traced_in_thread(func, _label(func)), *args, **kwargs)

        to_thread.run_sync = run_sync

    when_imported("anyio.to_thread", patch_anyio)


def _in_process(fn, label, args, kwargs):
    """Runs in the pool's worker process (inherited trace fd and clock)."""
    started = now_us()
    try:
        return fn(*args, **kwargs)
    finally:
        emit({"ts": started, "ph": "X", "dur": now_us() - started, "cat": "process", "lane": f"process {os.getpid()}", "name": label,
              "args": {"pid": os.getpid()}})


def _patch_process_pools() -> None:
    original_submit = concurrent.futures.ProcessPoolExecutor.submit

    def submit(self, fn, /, *args, **kwargs):
        return original_submit(self, _in_process, fn, _label(fn), args, kwargs)

    concurrent.futures.ProcessPoolExecutor.submit = submit


def _patch_fastapi() -> None:
    when_imported("fastapi.routing", _patch_routing)


def _patch_routing(routing) -> None:
    original_init = routing.APIRoute.__init__
    counter = iter(range(1, 1_000_000))

    def __init__(self, path, endpoint, **kwargs):
        original_init(self, path, endpoint, **kwargs)
        methods = ",".join(sorted(self.methods or []))
        label = f"{methods} {self.path}"
        call = self.dependant.call
        kind = "async" if asyncio.iscoroutinefunction(call) else "def"

        def begin(lane, args):
            emit({"ts": now_us(), "ph": "B", "cat": "handler", "lane": lane, "name": label, "args": args})

        def end(lane):
            emit({"ts": now_us(), "ph": "E", "cat": "handler", "lane": lane, "name": label})

        if kind == "async":
            @functools.wraps(call)
            async def traced(**values):
                task = _current_asyncio_task()
                if task is not None:
                    _handler_of_task[task] = label
                lane = f"handler {next(counter)}"
                _, thread_name, tid = _thread_lane()
                begin(lane, {"kind": "async", "thread": thread_name, "tid": tid, "path": self.path})
                try:
                    return await call(**values)
                finally:
                    end(lane)
        else:
            @functools.wraps(call)
            def traced(**values):
                lane = f"handler {next(counter)}"
                _, thread_name, tid = _thread_lane()
                begin(lane, {"kind": "def", "thread": thread_name, "tid": tid, "path": self.path})
                try:
                    return call(**values)
                finally:
                    end(lane)

            traced._asynclab_traced = True  # the handler span already says which thread ran it
        # FastAPI read the signature and dependencies from the original; it calls this at request time.
        self.dependant.call = traced

    routing.APIRoute.__init__ = __init__


def reset() -> None:
    """Forget the names handed out so far: a warm interpreter's next run starts its lanes afresh."""
    _name_counts.clear()
    _handler_of_task.clear()
    _traced_tasks.clear()


def install() -> None:
    if os.environ.get("ASYNCLAB_TRACE", "1") == "0":
        return
    _install_on_new_loops()
    _patch_loop_callbacks()
    _patch_thread_pools()
    _patch_process_pools()
    _patch_fastapi()
