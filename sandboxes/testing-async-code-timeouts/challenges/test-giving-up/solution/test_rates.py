# test_rates.py: a 30 s timeout, 7 s of back-off and a 60 s polling loop, tested in milliseconds
import asyncio

import pytest
from fastapi.testclient import TestClient

from app import app, get_fetch, get_timeout
from rates import Feed, latest_rate, with_retries


async def never_answers() -> float:
    await asyncio.Event().wait()  # nothing ever sets it
    raise AssertionError("unreachable")


@pytest.mark.asyncio
async def test_timeout_gives_none() -> None:
    # The test sets the deadline: 0.05 s instead of the 30 s default.
    assert await latest_rate(never_answers, timeout=0.05) is None


@pytest.mark.asyncio
async def test_retries_back_off() -> None:
    calls = 0

    async def flaky() -> float:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise ConnectionError("provider down")
        return 1.08

    waited: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)  # record the wait instead of doing it

    assert await with_retries(flaky, sleep=fake_sleep) == 1.08
    assert waited == [1.0, 2.0, 4.0]


@pytest.mark.asyncio
async def test_retries_give_up() -> None:
    async def down() -> float:
        raise ConnectionError("provider down")

    waited: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)

    with pytest.raises(ConnectionError):
        await with_retries(down, sleep=fake_sleep)
    assert waited == [1.0, 2.0, 4.0]  # three waits between four attempts, none after the last


@pytest.mark.asyncio
async def test_cancelled_feed_closes() -> None:
    fetched = asyncio.Event()

    async def fetch() -> float:
        fetched.set()
        return 1.08

    feed = Feed(fetch)  # polls every 60 s
    task = asyncio.create_task(feed.run())
    await fetched.wait()  # wait for what the test needs, not for a fixed time
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert feed.rates == [1.08]
    assert feed.closed


def test_endpoint_answers_504() -> None:
    # The app's own dependencies, swapped for the test: a provider that hangs, a short deadline.
    app.dependency_overrides[get_fetch] = lambda: never_answers
    app.dependency_overrides[get_timeout] = lambda: 0.05
    try:
        with TestClient(app) as client:
            response = client.get("/rate")
    finally:
        app.dependency_overrides.clear()
    assert response.status_code == 504
