import asyncio
import os
from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI, Request

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # a fake pricing service that answers after ?delay= ms

# At most 3 calls to the pricing service at once, from this process.
pricing_slots = asyncio.Semaphore(9)


@asynccontextmanager
async def lifespan(app: FastAPI):
    # One client for the whole app, closed at shutdown (lesson 12 has more on lifespan).
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=10) as client:
        app.state.pricing = client
        yield


app = FastAPI(lifespan=lifespan)


async def pricing_slot():
    """Holds one of the three slots for the whole request; extra requests wait here."""
    async with pricing_slots:
        yield


@app.get("/quote", dependencies=[Depends(pricing_slot)])
async def quote(request: Request):
    response = await request.app.state.pricing.get("/price", params={"delay": 500})
    return {"upstream": response.json()}
