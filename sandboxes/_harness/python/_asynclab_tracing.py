"""What the Python harness records, with no change to lesson code (DESIGN §6).

- task lanes: each asyncio task's lifetime (create_task marks the lesson's own
  tasks and gives each lane the coroutine's name, leaving the task's own name and
  the loop's task factory as asyncio has them), and the segments in which it was
  actually running on the loop;
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
import re
import threading
import time
import weakref

from _asynclab_hooks import when_imported
from _asynclab_trace import emit, now_us

BUSY_US = int(os.environ.get("ASYNCLAB_BUSY_US", "2000"))
# Steps shorter than this are left out of the task lanes: invisible on a timeline,
# and a busy loop of short steps would otherwise flood the trace.
STEP_MIN_US = int(os.environ.get("ASYNCLAB_STEP_MIN_US", "100"))

_name_counts: collections.Counter = collections.Counter()
# The FastAPI handler a request's task is running, for the loop lane's culprit. Weak: a strong
# key kept every request's finished Task (and what it referenced) alive for the whole run.
_handler_of_task: "weakref.WeakKeyDictionary[asyncio.Task, str]" = weakref.WeakKeyDictionary()


# asyncio's own name for a task nobody named (`Task-7`): the lane then says what it runs.
_DEFAULT_TASK_NAME = re.compile(r"Task-\d+")


def _display_name(task) -> str:
    """The lane's name: the task's own name when the code gave it one (`create_task(..., name="A")`,
    `set_name`), else the coroutine's function; repeats get `#2`, `#3` in creation order."""
    given = task.get_name()
    if isinstance(given, str) and given and not _DEFAULT_TASK_NAME.fullmatch(given):
        base = given[:60]
    else:
        coro = task.get_coro()
        base = getattr(coro, "__qualname__", None) or type(coro).__name__
        base = base.replace(".<locals>.", ".")
    _name_counts[base] += 1
    n = _name_counts[base]
    return base if n == 1 else f"{base}#{n}"


# Tasks of the lesson's own code, by task, with their lane name. A task's running
# segments are the loop callbacks that step it, timed in Handle._run below: one timing
# per callback serves both the task lane and the event-loop lane. The lane name lives
# only here: the task keeps the name asyncio gave it (`Task-7`, or the one passed), so
# code that reads `get_name()` sees what it would see without the harness.
_traced_tasks: "weakref.WeakKeyDictionary[asyncio.Task, str]" = weakref.WeakKeyDictionary()
# Tasks of the lesson's code made but not yet stepped, with when they were made: the lane is
# named at the first step, once `create_task` has returned and any name the code passed or
# set afterwards (`task.set_name("A")`) is on the task; its span still begins at creation.
_pending_tasks: "weakref.WeakKeyDictionary[asyncio.Task, int]" = weakref.WeakKeyDictionary()


_WORK = os.path.realpath(os.environ.get("ASYNCLAB_WORK", os.getcwd()))
_HERE = os.path.abspath(__file__)


def _is_lesson_code(coro) -> bool:
    """Tasks of the sandbox's own code get lanes; asyncio's and the server's internals do not."""
    code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
    return bool(code) and os.path.realpath(code.co_filename).startswith(_WORK + os.sep)


def _hide_harness_frames(task):
    """In debug mode a task remembers where it was created ("created at ..."): leave out the
    harness's create_task wrapper, so the traceback is the one asyncio would keep without it."""
    tb = getattr(task, "_source_traceback", None)
    if tb:
        tb[:] = [frame for frame in tb if frame.filename != _HERE]
    return task


def _task_ended(task, name: str, ts: int) -> None:
    emit({"ts": ts, "ph": "E", "cat": "task", "lane": f"task {name}", "name": name, "args": {"cancelled": task.cancelled()}})


def _begin_task(task, created: int) -> str:
    name = _display_name(task)
    _traced_tasks[task] = name
    # Begin/end rather than one complete event: a run killed mid-way still shows its open tasks.
    emit({"ts": created, "ph": "B", "cat": "task", "lane": f"task {name}", "name": name})
    return name


def _trace_task(task) -> None:
    coro = task.get_coro()
    if not _is_lesson_code(coro) or task in _traced_tasks or task in _pending_tasks:
        return
    if task.done():  # an eager task (eager_task_factory) may finish inside create_task
        name = _begin_task(task, now_us())
        _traced_tasks.pop(task, None)
        _task_ended(task, name, now_us())
        return
    _pending_tasks[task] = now_us()
    # Its lane is named and begun (dated from now) at its first step, and ends in Handle._run after the step that finished
    # it: a done callback would show in the task's repr (debug mode's "Executing <Task ... cb=[...]>").


def _patch_create_task() -> None:
    """Every task the loop makes (create_task, ensure_future, gather, TaskGroup, AnyIO) passes
    through BaseEventLoop.create_task; trace it there rather than through a task factory, so
    `loop.get_task_factory()` stays None (and a factory the lesson sets is used as it would be).
    A factory also met CPython 3.13.5's `task.set_name(name)` after it, which named every task
    "None" when no name was given; the loop's own path names tasks as asyncio does."""
    original = asyncio.base_events.BaseEventLoop.create_task

    @functools.wraps(original)
    def create_task(self, coro, *args, **kwargs):
        task = original(self, coro, *args, **kwargs)
        if isinstance(task, asyncio.Task):
            _trace_task(_hide_harness_frames(task))
        return task

    asyncio.base_events.BaseEventLoop.create_task = create_task


def _culprit(callback) -> str:
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        name = _handler_of_task.get(owner)
        if name is None:
            name = owner.get_name()
            if name.startswith("Task-"):  # asyncio's own name: say what it runs (a traced task: its lane name)
                name = _traced_tasks.get(owner) or getattr(owner.get_coro(), "__qualname__", name)
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
        owner = getattr(callback, "__self__", None)
        task = owner if isinstance(owner, asyncio.Task) else None
        if task is not None and task in _pending_tasks:
            _begin_task(task, _pending_tasks.pop(task))
        started = now_us()
        try:
            return original(self)
        finally:
            ended = now_us()
            took = ended - started
            # A task finishes only inside one of its steps, so this sees every traced task end.
            finished = task is not None and task.done()
            if took >= STEP_MIN_US or finished:
                name = _traced_tasks.get(task) if task is not None else None
                if name is not None and took >= STEP_MIN_US:
                    emit({"ts": started, "ph": "X", "dur": took, "cat": "task-run", "lane": f"task {name}", "name": name})
                if took >= BUSY_US and report_busy:
                    culprit = _culprit(callback)
                    emit({"ts": started, "ph": "X", "dur": took, "cat": "loop-busy", "lane": "event loop", "name": culprit, "args": {"culprit": culprit}})
                if finished and name is not None:
                    del _traced_tasks[task]
                    _task_ended(task, name, ended)

    asyncio.events.Handle._run = _run


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
    _pending_tasks.clear()


def install() -> None:
    if os.environ.get("ASYNCLAB_TRACE", "1") == "0":
        return
    _patch_create_task()
    _patch_loop_callbacks()
    _patch_thread_pools()
    _patch_process_pools()
    _patch_fastapi()
