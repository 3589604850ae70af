# app.py: an app that sets up a shared rates table at start-up and refreshes it while it runs
import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request


async def refresh_rates(rates: dict) -> None:
    while True:  # runs until the lifespan cancels it at shutdown
        await asyncio.sleep(0.1)  # stands in for a call to the rates provider
        rates["refreshed"] += 1


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.rates = {"EUR": 1.0, "USD": 1.08, "refreshed": 0}
    refresher = asyncio.create_task(refresh_rates(app.state.rates))
    yield
    refresher.cancel()


app = FastAPI(lifespan=lifespan)


@app.get("/rate/{currency}")
async def rate(currency: str, request: Request) -> dict:
    rates = request.app.state.rates  # only there once the lifespan has run
    await asyncio.sleep(0.25)  # a slow lookup, so the refresher gets to run meanwhile
    return {"currency": currency, "rate": rates[currency], "refreshed": rates["refreshed"]}
