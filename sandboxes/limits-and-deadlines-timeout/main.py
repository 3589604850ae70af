import asyncio
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException, Request

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # a fake weather service that answers after ?delay= ms
DEADLINE = 1.0  # seconds we are willing to wait for its answer


@asynccontextmanager
async def lifespan(app: FastAPI):
    # One client for the app. Its own timeout (10 s) is per network operation, not a total deadline.
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10) as client:
        app.state.upstream = client
        yield


app = FastAPI(lifespan=lifespan)


@app.get("/weather")
async def weather(request: Request, delay: int = 200):
    call = request.app.state.upstream.get("/forecast", params={"delay": delay})
    try:
        response = await asyncio.wait_for(call, timeout=DEADLINE)  # cancels the call at the deadline
    except TimeoutError:  # since Python 3.11, asyncio.TimeoutError is the built-in TimeoutError
        raise HTTPException(status_code=504, detail=f"weather service gave no answer within {DEADLINE} s")
    return response.json()
