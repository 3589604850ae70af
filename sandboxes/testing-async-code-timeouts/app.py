# app.py: an endpoint that asks the rate provider, with the provider and the deadline as dependencies
import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException

from rates import latest_rate


async def ask_provider() -> float:
    await asyncio.sleep(0.1)  # stands in for the call to the real provider
    return 1.08


def get_fetch() -> Callable[[], Awaitable[float]]:
    return ask_provider


def get_timeout() -> float:
    return 30.0


app = FastAPI()


@app.get("/rate")
async def rate(
    fetch: Annotated[Callable[[], Awaitable[float]], Depends(get_fetch)],
    timeout: Annotated[float, Depends(get_timeout)],
) -> dict:
    value = await latest_rate(fetch, timeout=timeout)
    if value is None:
        raise HTTPException(status_code=504, detail="rate provider timed out")
    return {"rate": value}
