# main.py: a middleware that times every request and says so in a response header
import os
import time
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # the fake orders service the harness started


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=5.0) as client:
        app.state.http = client
        yield


app = FastAPI(lifespan=lifespan)


@app.middleware("http")
async def add_process_time(request: Request, call_next):
    started = time.perf_counter()
    response = await call_next(request)  # everything inside: other middleware, routing, the handler
    took_ms = (time.perf_counter() - started) * 1000
    response.headers["X-Process-Time"] = f"{took_ms:.1f}"
    print(f"{request.url.path:<8} X-Process-Time: {took_ms:6.1f} ms", flush=True)
    return response


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.get("/orders")
async def orders(request: Request):
    response = await request.app.state.http.get("/orders?delay=200")  # the orders service takes 200 ms
    return {"orders": response.json()}
