# main.py: sync code in a def endpoint needs the app's async client
import asyncio
import os
import threading
import time
from contextlib import asynccontextmanager

import anyio.from_thread
import httpx
from fastapi import FastAPI, Request

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # the fake shop service the harness started
WRONG_WAY = False  # True: run the async code with asyncio.run, a new event loop in the worker thread


@asynccontextmanager
async def lifespan(app: FastAPI):
    # Made on the app's event loop: its connection pool, and every connection in it, belong to that loop.
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=5.0) as client:
        app.state.http = client
        yield


app = FastAPI(lifespan=lifespan)


def thread() -> str:
    return threading.current_thread().name


async def get_json(client: httpx.AsyncClient, path: str) -> dict:
    response = await client.get(f"{path}?delay=200")  # the shop service takes 200 ms
    response.raise_for_status()
    return response.json()


async def load_order(client: httpx.AsyncClient, order: int) -> list[dict]:
    """Async code: two calls at once on the shared client."""
    print(f"order {order}: load_order runs on {thread()}", flush=True)
    return await asyncio.gather(get_json(client, f"/customers/{order}"), get_json(client, f"/orders/{order}/lines"))


def write_export(order: int, client: httpx.AsyncClient) -> str:
    """Sync code, say a reporting library's callback: it may block, and it needs the async client."""
    if WRONG_WAY:
        parts = asyncio.run(load_order(client, order))  # a second loop, in this thread, with the first loop's client
    else:
        parts = anyio.from_thread.run(load_order, client, order)  # runs on the app's loop; this thread waits
    time.sleep(0.1)  # the library writes the file: blocking, and fine here, off the loop
    return f"export-{order}.csv from {' + '.join(part['path'] for part in parts)}"


@app.get("/orders/{order}/export")
def export(order: int, request: Request):
    """A def endpoint: FastAPI runs it in one of AnyIO's worker threads."""
    print(f"order {order}: export runs on {thread()}", flush=True)
    return {"file": write_export(order, request.app.state.http)}
