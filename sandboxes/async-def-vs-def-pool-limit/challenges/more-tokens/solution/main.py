import threading
import time
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app: FastAPI):
    # The limiter belongs to the running event loop, so set it from inside the loop,
    # once, at startup. 4 tokens instead of the default 40 makes the queue visible.
    anyio.to_thread.current_default_thread_limiter().total_tokens = 8
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/report")
def report():
    """A blocking def endpoint: each request holds one worker thread, one token, for a second."""
    time.sleep(1)
    return {"thread": threading.current_thread().name, "thread_id": threading.get_native_id()}
