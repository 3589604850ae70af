# two_sleeps.py
import asyncio
import time
from collections.abc import Awaitable, Callable

TASKS = 20
DELAY = 0.2  # seconds each task sleeps


async def polite() -> None:
    await asyncio.sleep(DELAY)  # suspends this coroutine only


async def rude() -> None:
    time.sleep(DELAY)  # freezes the thread, and with it the event loop


async def run_batch(sleeper: Callable[[], Awaitable[None]]) -> float:
    t0 = time.perf_counter()
    await asyncio.gather(*(sleeper() for _ in range(TASKS)))
    return time.perf_counter() - t0


async def main() -> None:
    print(f"{TASKS} x asyncio.sleep({DELAY}): {await run_batch(polite):.2f} s")
    print(f"{TASKS} x time.sleep({DELAY}):    {await run_batch(rude):.2f} s")


asyncio.run(main())
