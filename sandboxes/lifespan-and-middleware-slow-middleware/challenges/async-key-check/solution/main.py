# main.py: the timing app from before, plus a middleware that checks an API key on every request
import os
import time
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # fake auth and orders services


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=5.0) as client:
        app.state.http = client
        with httpx.Client(base_url=UPSTREAM_URL, timeout=5.0) as auth:  # BUG: a sync client
            app.state.auth = auth
            yield


app = FastAPI(lifespan=lifespan)


@app.middleware("http")
async def check_api_key(request: Request, call_next):
    # Every route still pays for this, /health included, but the await lets the loop
    # serve other requests during the auth service's 80 ms.
    reply = await request.app.state.http.get("/auth/check?delay=80")
    if reply.status_code != 200:
        return JSONResponse({"detail": "invalid API key"}, status_code=401)
    return await call_next(request)


@app.middleware("http")  # added last, so it runs first: it times the key check too
async def add_process_time(request: Request, call_next):
    started = time.perf_counter()
    response = await call_next(request)
    took_ms = (time.perf_counter() - started) * 1000
    response.headers["X-Process-Time"] = f"{took_ms:.1f}"
    print(f"{request.url.path:<8} X-Process-Time: {took_ms:6.1f} ms", flush=True)
    return response


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.get("/orders")
async def orders(request: Request):
    response = await request.app.state.http.get("/orders?delay=200")
    return {"orders": response.json()}
