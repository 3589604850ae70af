"""Starts the fake upstream service (../upstream.mjs) when the sandbox needs it, and
publishes its address as UPSTREAM_URL before the lesson's code runs."""
import os
import shutil
import subprocess

HARNESS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_if_needed():
    if "upstream" not in os.environ.get("ASYNCLAB_NEEDS", "").split(","):
        return None
    node = shutil.which("node") or "/opt/node/bin/node"
    proc = subprocess.Popen([node, os.path.join(HARNESS, "upstream.mjs")], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("UPSTREAM_URL="):
        raise SystemExit("the fake upstream service did not start")
    os.environ["UPSTREAM_URL"] = line.split("=", 1)[1]
    return proc
