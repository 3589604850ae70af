import asyncio
import os
import time
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # the fake price service the harness started

# Five products, and how many ms the price service takes to answer for each.
PRODUCTS = {"kettle": 150, "teapot": 250, "mugs": 200, "tray": 300, "spoons": 100}


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=5.0) as client:
        app.state.http = client
        yield


app = FastAPI(lifespan=lifespan)


async def fetch_price(client: httpx.AsyncClient, product: str, delay_ms: int, t0: float, style: str) -> dict:
    sent = time.perf_counter() - t0
    response = await client.get(f"/prices/{product}", params={"delay": delay_ms})
    response.raise_for_status()
    answered = time.perf_counter() - t0
    print(f"[{style:6}] {product:7} sent {sent:4.2f} s   answered {answered:4.2f} s", flush=True)
    return response.json()


@app.get("/prices/loop")
async def prices_loop(request: Request):
    client, t0 = request.app.state.http, time.perf_counter()
    # Tasks start at the handler's first await, so all five requests leave together;
    # awaiting them one by one afterwards only collects the answers.
    pending = [asyncio.create_task(fetch_price(client, product, delay_ms, t0, "loop")) for product, delay_ms in PRODUCTS.items()]
    prices = [await task for task in pending]
    return {"style": "loop", "prices": len(prices), "seconds": round(time.perf_counter() - t0, 2)}


@app.get("/prices/gather")
async def prices_gather(request: Request):
    client, t0 = request.app.state.http, time.perf_counter()
    prices = await asyncio.gather(
        *(fetch_price(client, product, delay_ms, t0, "gather") for product, delay_ms in PRODUCTS.items())
    )
    return {"style": "gather", "prices": len(prices), "seconds": round(time.perf_counter() - t0, 2)}
