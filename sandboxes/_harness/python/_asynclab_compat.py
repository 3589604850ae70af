"""Keeps lesson code current on the FastAPI Debian ships (0.92, DESIGN §5).

`FastAPI(lifespan=...)` arrived in FastAPI 0.93. On 0.92 the argument is not
rejected but silently dropped into `app.extra`, so a lesson's startup code would
never run. Starlette 0.26 underneath already supports lifespan handlers, so the
shim only hands the argument to the router, as 0.93 does. On a FastAPI that
knows `lifespan`, nothing is changed.
"""
import functools
import inspect

from _asynclab_hooks import when_imported


def apply() -> None:
    when_imported("fastapi.applications", _patch)


def _patch(fastapi) -> None:
    if "lifespan" in inspect.signature(fastapi.FastAPI.__init__).parameters:
        return
    original = fastapi.FastAPI.__init__

    @functools.wraps(original)
    def __init__(self, *args, lifespan=None, **kwargs):
        original(self, *args, **kwargs)
        if lifespan is not None:
            self.router.lifespan_context = lifespan

    fastapi.FastAPI.__init__ = __init__
