# rates.py: the code under test; every wait it does can be shortened or replaced by a test
import asyncio
from collections.abc import Awaitable, Callable


async def latest_rate(fetch: Callable[[], Awaitable[float]], *, timeout: float = 30.0) -> float | None:
    """The provider's rate, or None when it has not answered within `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            return await fetch()
    except TimeoutError:
        return None


async def with_retries(
    fetch: Callable[[], Awaitable[float]],
    *,
    attempts: int = 4,
    first_delay: float = 1.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> float:
    """Try `fetch` up to `attempts` times, waiting 1, 2, 4 … seconds between tries."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await fetch()
        except ConnectionError:
            if attempt == attempts:
                raise
            await sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


class Feed:
    """Polls the provider every `every` seconds until cancelled; always closes its connection."""

    def __init__(self, fetch: Callable[[], Awaitable[float]], *, every: float = 60.0) -> None:
        self.fetch = fetch
        self.every = every
        self.rates: list[float] = []
        self.closed = False

    async def run(self) -> None:
        try:
            while True:
                self.rates.append(await self.fetch())
                await asyncio.sleep(self.every)
        finally:
            self.closed = True  # stands in for closing the provider connection
