import asyncio
import threading
import time

from fastapi import FastAPI

app = FastAPI()


def current_thread() -> str:
    """The name of the thread running the caller: "MainThread" is the event loop's thread."""
    return threading.current_thread().name


@app.get("/async-sleep")
async def async_sleep():
    """async def + an awaited wait: runs on the event loop and hands it back while it waits."""
    await asyncio.sleep(1)
    return {"endpoint": "async def + await asyncio.sleep(1)", "thread": current_thread()}


@app.get("/sync-sleep")
def sync_sleep():
    """Plain def + a blocking wait: FastAPI runs it in a worker thread, so only that thread sleeps."""
    time.sleep(1)
    return {"endpoint": "def + time.sleep(1)", "thread": current_thread()}


@app.get("/async-blocking")
async def async_blocking():
    """async def + a blocking wait: runs on the event loop and freezes it, and every request with it."""
    await asyncio.sleep(1)
    return {"endpoint": "async def + time.sleep(1)", "thread": current_thread()}
