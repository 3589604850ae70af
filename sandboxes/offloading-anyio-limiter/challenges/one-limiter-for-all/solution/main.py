import asyncio
import threading
import time
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool


@asynccontextmanager
async def lifespan(app: FastAPI):
    # AnyIO's limiter (40 tokens by default) guards FastAPI's thread pool. Shrink it to 4.
    anyio.to_thread.current_default_thread_limiter().total_tokens = 4
    yield


app = FastAPI(lifespan=lifespan)


def legacy_lookup(arrived: float) -> dict:
    """A blocking call (1 s). Reports how long it waited for a thread before it could start."""
    waited = time.perf_counter() - arrived
    time.sleep(1)
    return {"thread": threading.current_thread().name, "waited_ms": round(waited * 1000)}


@app.get("/anyio")
async def via_anyio():
    # Starlette's run_in_threadpool: the same AnyIO pool and limiter that def endpoints use.
    return await run_in_threadpool(legacy_lookup, time.perf_counter())


@app.get("/to-thread")
async def via_to_thread():
    # Now through AnyIO as well: these calls wait for one of the same four tokens.
    return await run_in_threadpool(legacy_lookup, time.perf_counter())
