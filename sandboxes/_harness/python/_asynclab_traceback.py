"""Tracebacks as the reader's own `python3 main.py` or `uvicorn main:app` would print them.

The harness starts the reader's code through frames of its own (run.py and runpy's
`<frozen runpy>` frames, or serve.py, asyncio.run and importlib), and wraps endpoints for
tracing (_asynclab_tracing.traced). Without care, a traceback starts with four frames the
reader never wrote, and the line numbers they must match sit far below.

- An uncaught exception (sys.excepthook) is printed from the first frame of the reader's
  code on; a SyntaxError in the reader's file with no traceback at all, as python3 does.
  When no frame is the reader's (the harness itself failed), everything is shown.
- Everywhere (also in what uvicorn logs for a failing request), frames of the harness
  files are dropped; the reader's frames and the library frames around them stay.
- Chained exceptions (`raise … from …`, "During handling of …") are printed in full,
  with the harness frames dropped from each.
"""
import os
import sys
import traceback

HARNESS_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _is_harness(filename: str) -> bool:
    return filename.startswith(HARNESS_DIR)


def _without_harness(te: traceback.TracebackException, seen: set) -> None:
    """Drops harness frames from `te` and every exception chained to it."""
    if id(te) in seen:
        return
    seen.add(id(te))
    te.stack = traceback.StackSummary.from_list([f for f in te.stack if not _is_harness(f.filename)])
    for chained in (te.__cause__, te.__context__, *(getattr(te, "exceptions", None) or ())):
        if chained is not None:
            _without_harness(chained, seen)


def format_lesson_exception(exc_type, exc, tb, work: str | None = None) -> str:
    """The traceback text; with `work`, starting at the first frame of a file under it."""
    te = traceback.TracebackException(exc_type, exc, tb, compact=True)
    if work is not None:
        prefix = work.rstrip(os.sep) + os.sep
        first = next((i for i, f in enumerate(te.stack) if f.filename.startswith(prefix)), None)
        if first is not None:
            te.stack = traceback.StackSummary.from_list(te.stack[first:])
        elif isinstance(exc, SyntaxError) and (exc.filename or "").startswith(prefix):
            te.stack = traceback.StackSummary.from_list([])
    _without_harness(te, set())
    return "".join(te.format())


def install(work: str) -> None:
    """Uncaught exceptions of this process are printed from the reader's first frame on."""

    def hook(exc_type, exc, tb):
        try:
            text = format_lesson_exception(exc_type, exc, tb, work)
        except Exception:  # noqa: BLE001 — never lose the reader's error to a bug of ours
            sys.__excepthook__(exc_type, exc, tb)
            return
        sys.stderr.write(text)
        sys.stderr.flush()

    sys.excepthook = hook


def tidy_logged_tracebacks(*loggers) -> None:
    """Tracebacks these loggers print (uvicorn's "Exception in ASGI application") lose harness frames."""

    def format_exception(ei):
        return format_lesson_exception(*ei).rstrip("\n")

    for logger in loggers:
        for handler in logger.handlers:
            if handler.formatter is not None:
                handler.formatter.formatException = format_exception
