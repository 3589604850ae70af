# main.py: BROKEN on purpose. Five tickets left, eight buyers, and every one of them gets one.
import itertools
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException, Request

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # a fake payment service: 100 ms per charge

stock = {"tickets": 5}  # module-level state, shared by every request in this process
sold: list[int] = []
arrivals = itertools.count(1)  # numbers the buyers in the order they arrive


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=5.0) as client:
        app.state.http = client
        yield


app = FastAPI(lifespan=lifespan)


@app.post("/buy")
async def buy(request: Request):
    buyer = next(arrivals)
    left = stock["tickets"]  # read
    if left == 0:
        raise HTTPException(status_code=409, detail="sold out")
    await request.app.state.http.post("/payments?delay=100")  # other requests run here
    stock["tickets"] = left - 1  # BUG: writes back a count that is 100 ms old
    sold.append(buyer)
    print(f"buyer {buyer} saw {left} left, wrote {left - 1}", flush=True)
    return {"buyer": buyer, "ticket": True}


@app.get("/stock")
async def stock_report():
    return {"tickets_left": stock["tickets"], "tickets_sold": len(sold)}
