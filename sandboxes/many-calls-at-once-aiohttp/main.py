# main.py: one aiohttp ClientSession for the whole app; five calls in a loop, then with gather
import asyncio
import os
import time
from contextlib import asynccontextmanager

import aiohttp
from fastapi import FastAPI, Request

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # the fake shipping service the harness started

# Five carriers, and how many ms the shipping service takes to quote for each.
CARRIERS = {"post": 120, "courier": 300, "freight": 250, "express": 180, "locker": 150}

# aiohttp reports what its connection pool does to TraceConfig hooks: count new and reused connections.
pool = {"new": 0, "reused": 0}


async def on_opened(session, context, params) -> None:
    pool["new"] += 1


async def on_reused(session, context, params) -> None:
    pool["reused"] += 1


tracing = aiohttp.TraceConfig()
tracing.on_connection_create_end.append(on_opened)
tracing.on_connection_reuseconn.append(on_reused)


def pool_since(before: dict) -> dict:
    return {kind: pool[kind] - before[kind] for kind in pool}


@asynccontextmanager
async def lifespan(app: FastAPI):
    # Created inside the running event loop, once; aiohttp's default timeout is 5 minutes.
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(base_url=UPSTREAM_URL, timeout=timeout, trace_configs=[tracing]) as session:
        app.state.http = session
        yield
    print(f"[app] session closed: {session.closed}", flush=True)


app = FastAPI(lifespan=lifespan)


async def fetch_quote(session: aiohttp.ClientSession, carrier: str, delay_ms: int, t0: float, style: str) -> dict:
    sent = time.perf_counter() - t0
    # "async with" hands the connection back to the session's pool once the body has been read.
    async with session.get(f"/quotes/{carrier}", params={"delay": delay_ms}) as response:
        response.raise_for_status()
        quote = await response.json()
    answered = time.perf_counter() - t0
    print(f"[{style:6}] {carrier:7} sent {sent:4.2f} s   answered {answered:4.2f} s", flush=True)
    return quote


@app.get("/quotes/loop")
async def quotes_loop(request: Request):
    session, t0, before = request.app.state.http, time.perf_counter(), dict(pool)
    quotes = []
    for carrier, delay_ms in CARRIERS.items():
        quotes.append(await fetch_quote(session, carrier, delay_ms, t0, "loop"))  # waits before the next
    return {"style": "loop", "quotes": len(quotes), "connections": pool_since(before),
            "seconds": round(time.perf_counter() - t0, 2)}


@app.get("/quotes/gather")
async def quotes_gather(request: Request):
    session, t0, before = request.app.state.http, time.perf_counter(), dict(pool)
    quotes = await asyncio.gather(
        *(fetch_quote(session, carrier, delay_ms, t0, "gather") for carrier, delay_ms in CARRIERS.items())
    )
    return {"style": "gather", "quotes": len(quotes), "connections": pool_since(before),
            "seconds": round(time.perf_counter() - t0, 2)}
