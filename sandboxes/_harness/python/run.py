"""Runs a Python script sandbox: the entry file as __main__, from the work directory."""
import os
import runpy
import sys

import _asynclab_traceback  # the harness folder is still sys.path[0] here
import _asynclab_tracing

_asynclab_tracing.install()

import _asynclab_upstream  # noqa: E402

_upstream = _asynclab_upstream.start_if_needed()

work = os.environ.get("ASYNCLAB_WORK", os.getcwd())
entry = os.environ["ASYNCLAB_ENTRY"]
# An uncaught exception is printed from the script's own frames on, not from this file's and runpy's.
_asynclab_traceback.install(work)

# The script sees its own folder first on sys.path, as `python3 main.py` would give it,
# and not the harness folder this file was started from.
sys.path[0] = work
sys.argv = [entry]
runpy.run_path(os.path.join(work, entry), run_name="__main__")
