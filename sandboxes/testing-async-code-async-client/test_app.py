# test_app.py: the same app tested in the test's own event loop and through TestClient
import asyncio
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from app import app

ITEMS = ["tea", "coffee", "cocoa", "juice", "water"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the AnyIO plugin would otherwise also run each test on trio


@pytest.fixture
async def client():
    # No socket and no server: ASGITransport calls the app directly, in this test's loop.
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.mark.anyio
async def test_one_price(client: httpx.AsyncClient) -> None:
    response = await client.get("/price/tea")
    assert response.status_code == 200
    assert response.json() == {"item": "tea", "price": 3.5}


@pytest.mark.anyio
async def test_five_prices_at_once(client: httpx.AsyncClient) -> None:
    async def fetch(item: str) -> float:
        response = await client.get(f"/price/{item}")
        return response.json()["price"]

    started = asyncio.get_running_loop().time()
    prices = await asyncio.gather(*(fetch(item) for item in ITEMS))
    took = asyncio.get_running_loop().time() - started
    assert prices == [3.5, 4.0, 4.5, 5.0, 1.0]
    print(f"five requests through AsyncClient: {took:.2f} s")


def test_five_prices_with_testclient() -> None:
    # A plain def test: TestClient runs the app in an event loop on a thread of its own.
    with TestClient(app) as client:
        started = time.perf_counter()
        prices = [client.get(f"/price/{item}").json()["price"] for item in ITEMS]
        took = time.perf_counter() - started
    assert prices == [3.5, 4.0, 4.5, 5.0, 1.0]
    print(f"five requests through TestClient: {took:.2f} s")
