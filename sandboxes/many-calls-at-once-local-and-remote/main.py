import asyncio
import os
import time
from contextlib import asynccontextmanager

import aiosqlite
import httpx
from fastapi import FastAPI, Request

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # the fake profile service the harness started
ORDERS = 600_000  # rows in the local orders table


async def create_orders(db: aiosqlite.Connection) -> None:
    await db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, total REAL)")
    rows = ((n % 5_000, (n % 97) + 0.99) for n in range(ORDERS))
    await db.executemany("INSERT INTO orders (user_id, total) VALUES (?, ?)", rows)
    await db.commit()


@asynccontextmanager
async def lifespan(app: FastAPI):
    # Both shared resources are opened once, here, and closed when the app stops.
    async with aiosqlite.connect(":memory:") as db, httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=5.0) as http:
        await create_orders(db)
        app.state.db, app.state.http = db, http
        yield


app = FastAPI(lifespan=lifespan)


# Where does this customer rank by total spend? SQLite sums every order of every
# customer to answer: a slow local query (about 0.2 s here), run on aiosqlite's thread.
RANK_QUERY = """
    SELECT count(*) + 1 FROM (SELECT user_id, sum(total) AS spent FROM orders GROUP BY user_id)
    WHERE spent > (SELECT sum(total) FROM orders WHERE user_id = ?)
"""


async def spend_rank(db: aiosqlite.Connection, user_id: int) -> int:
    async with db.execute(RANK_QUERY, (user_id,)) as cursor:
        (rank,) = await cursor.fetchone()
    return rank


async def fetch_profile(http: httpx.AsyncClient, user_id: int) -> dict:
    response = await http.get(f"/users/{user_id}", params={"delay": 400})  # the profile service takes 400 ms
    response.raise_for_status()
    return response.json()


@app.get("/account/{user_id}/serial")
async def account_serial(user_id: int, request: Request):
    t0 = time.perf_counter()
    rank = await spend_rank(request.app.state.db, user_id)  # about 0.2 s
    profile = await fetch_profile(request.app.state.http, user_id)  # then 0.4 s more
    return {"style": "serial", "rank": rank, "user": profile["path"], "ms": round((time.perf_counter() - t0) * 1000)}


@app.get("/account/{user_id}")
async def account(user_id: int, request: Request):
    t0 = time.perf_counter()
    rank, profile = await asyncio.gather(  # both start now; done when the slower one is
        spend_rank(request.app.state.db, user_id),
        fetch_profile(request.app.state.http, user_id),
    )
    return {"style": "gather", "rank": rank, "user": profile["path"], "ms": round((time.perf_counter() - t0) * 1000)}
