# main.py: the same work (call the rates service, run the report query) done three safe ways
import asyncio
import os
import sqlite3
from contextlib import asynccontextmanager

import aiosqlite
import httpx
from fastapi import FastAPI

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # a fake rates service that answers after ?delay=<ms>

SLOW_QUERY = """
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500000)
    SELECT count(*) FROM n
"""


@asynccontextmanager
async def lifespan(app: FastAPI):
    # One client of each kind for the whole app, created once and closed at shutdown.
    async with httpx.AsyncClient(base_url=UPSTREAM_URL) as async_client:
        with httpx.Client(base_url=UPSTREAM_URL) as sync_client:
            app.state.async_client = async_client
            app.state.sync_client = sync_client
            yield


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health():
    return {"status": "ok"}


# Fix 1: use async libraries and await them. The loop serves others while they wait.
@app.get("/async-libs")
async def async_libs():
    response = await app.state.async_client.get("/rates?delay=600")
    async with aiosqlite.connect(":memory:") as db:  # aiosqlite runs sqlite3 in its own thread
        async with db.execute(SLOW_QUERY) as cursor:
            (rows,) = await cursor.fetchone()
    return {"fix": "await async libraries", "rates": response.json()["delay_ms"], "rows": rows}


# Fix 2: keep the sync libraries and declare the endpoint def: FastAPI runs it in a worker thread.
@app.get("/def-endpoint")
def def_endpoint():
    response = app.state.sync_client.get("/rates?delay=600")
    rows = count_rows()
    return {"fix": "def endpoint", "rates": response.json()["delay_ms"], "rows": rows}


# Fix 3: stay async def, and send each blocking call to a thread with asyncio.to_thread.
@app.get("/to-thread")
async def to_thread():
    response = await asyncio.to_thread(app.state.sync_client.get, "/rates?delay=600")
    rows = await asyncio.to_thread(count_rows)
    return {"fix": "asyncio.to_thread", "rates": response.json()["delay_ms"], "rows": rows}


def count_rows() -> int:
    db = sqlite3.connect(":memory:")
    try:
        (rows,) = db.execute(SLOW_QUERY).fetchone()
        return rows
    finally:
        db.close()
