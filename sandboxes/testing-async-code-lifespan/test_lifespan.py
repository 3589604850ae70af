# test_lifespan.py: ASGITransport sends requests only, so the lifespan must be run by the test
import httpx
import pytest
from fastapi.testclient import TestClient

from app import app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_without_lifespan() -> None:
    # The trap, pinned down: no start-up ran, so app.state.rates does not exist,
    # and ASGITransport raises the app's error in the test instead of answering 500.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        with pytest.raises(AttributeError, match="'State' object has no attribute 'rates'"):
            await client.get("/rate/USD")


@pytest.fixture
async def client():
    # The fix for AsyncClient: enter the app's lifespan around the client, in this test's loop.
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            yield client


@pytest.mark.anyio
async def test_with_lifespan_context(client: httpx.AsyncClient) -> None:
    response = await client.get("/rate/USD")
    assert response.json()["rate"] == 1.08
    assert response.json()["refreshed"] >= 1  # the refresher ran while the request waited


def test_with_testclient() -> None:
    # TestClient runs the lifespan itself, but only when used as a context manager.
    with TestClient(app) as client:
        response = client.get("/rate/USD")
    assert response.json()["rate"] == 1.08
    assert response.json()["refreshed"] >= 1
