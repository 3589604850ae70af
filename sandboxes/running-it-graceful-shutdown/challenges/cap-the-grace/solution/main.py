# main.py: uvicorn gets SIGTERM while a slow request is in flight, and shuts down gracefully.
# The script plays both sides: it serves `app` with uvicorn, and its own tasks are the clients.
import asyncio
import logging
import os
import signal
import time
from contextlib import asynccontextmanager

import httpx
import uvicorn
from fastapi import FastAPI

SLOW_SECONDS = 3.0  # how long /report works
GRACE_SECONDS = 1  # uvicorn's --timeout-graceful-shutdown; None, the default, waits as long as it takes
STARTED = time.perf_counter()


def log(message: str) -> None:
    print(f"{time.perf_counter() - STARTED:5.2f} s  {message}", flush=True)


class UvicornLines(logging.Handler):
    """uvicorn's own log lines, on our clock and in our stream, so the order reads true."""

    def emit(self, record: logging.LogRecord) -> None:
        log(f"uvicorn: {record.getMessage().strip()}")


@asynccontextmanager
async def lifespan(app: FastAPI):
    log("lifespan: startup")
    yield
    log("lifespan: shutdown")


app = FastAPI(lifespan=lifespan)
report_started = asyncio.Event()


@app.get("/report")
async def report():
    log("/report: started")
    report_started.set()
    try:
        await asyncio.sleep(SLOW_SECONDS)  # stands in for queries and rendering
    except asyncio.CancelledError:
        log("/report: cancelled by the server")
        raise
    log("/report: finished")
    return {"rows": 1200}


async def slow_client(client: httpx.AsyncClient) -> None:
    try:
        response = await client.get("/report")
        log(f"slow client: {response.status_code} {response.text}")
    except httpx.HTTPError as error:
        log(f"slow client: no answer ({type(error).__name__})")


async def late_client(client: httpx.AsyncClient) -> None:
    try:
        await client.get("/report")
        log("late client: served")
    except httpx.ConnectError:
        log("late client: connection refused, nothing listens any more")


async def main() -> None:
    config = uvicorn.Config(app, host="127.0.0.1", port=0, loop="asyncio", log_config=None,
                            timeout_graceful_shutdown=GRACE_SECONDS)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        slow = asyncio.create_task(slow_client(client))
        await report_started.wait()
        await asyncio.sleep(0.2)
        log("main: SIGTERM to this process, as `kill <pid>` or an orchestrator sends it")
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(0.3)
        await asyncio.create_task(late_client(client))
        await slow
    await serving
    log("main: server.serve() returned")


def after_uvicorn(signum, frame) -> None:
    # uvicorn caught SIGTERM while it served, and raises it again once it is done, for the
    # handler that was there before. Without this one, Python's default would end the process.
    log("main: uvicorn raised SIGTERM again for the previous handler")


for name in ("uvicorn.error", "uvicorn.access"):
    logging.getLogger(name).addHandler(UvicornLines())
    logging.getLogger(name).setLevel(logging.INFO)
signal.signal(signal.SIGTERM, after_uvicorn)
asyncio.run(main())
