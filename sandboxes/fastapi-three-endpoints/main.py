import asyncio
import time

from fastapi import FastAPI

app = FastAPI()


@app.get("/async-sleep")
async def async_sleep() -> dict:
    # Suspends this request only; the event loop serves the others meanwhile.
    await asyncio.sleep(1)
    return {"endpoint": "async def + await asyncio.sleep(1)"}


@app.get("/sync-sleep")
def sync_sleep() -> dict:
    # A plain def: FastAPI runs it in its thread pool, so the loop stays free.
    time.sleep(1)
    return {"endpoint": "def + time.sleep(1)"}


@app.get("/async-blocking")
async def async_blocking() -> dict:
    # The trap: a blocking call inside async def freezes the loop for everyone.
    time.sleep(1)
    return {"endpoint": "async def + time.sleep(1)"}
