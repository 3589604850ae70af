# as_they_come.py: four shops quote a price; show each one as it arrives
import asyncio
import time

START = time.perf_counter()

# Seconds each shop takes to answer. The sleep sets it, so the finishing order is fixed:
# east, west, south, north, whatever order we ask in.
SHOPS = {"north": 0.4, "east": 0.1, "south": 0.3, "west": 0.2}


def log(message: str) -> None:
    print(f"{time.perf_counter() - START:5.2f} s  {message}")


async def quote(shop: str) -> str:
    await asyncio.sleep(SHOPS[shop])  # the shop's API, thinking
    return f"{shop}: {round(SHOPS[shop] * 100)} EUR"


async def all_at_once() -> None:
    log("1) gather: nothing until the slowest shop answers")
    prices = await asyncio.gather(*(quote(shop) for shop in SHOPS))
    log(f"   gather returned, in argument order: {prices}")


async def as_they_come() -> None:
    log("2) as_completed: each price as soon as it exists")
    tasks = [asyncio.create_task(quote(shop), name=shop) for shop in SHOPS]
    # Python 3.13+: `async for` hands back the tasks themselves, so we know who answered.
    async for task in asyncio.as_completed(tasks):
        log(f"   {task.get_name()} answered -> {task.result()}")
        break  # the first price is all we wanted
    for other in tasks:
        other.cancel()  # does nothing to the finished one
    await asyncio.gather(*tasks, return_exceptions=True)  # let the others finish cancelling
    log(f"   first answer: {task.get_name()}, {sum(t.cancelled() for t in tasks)} cancelled")


async def main() -> None:
    await all_at_once()
    await as_they_come()


asyncio.run(main())
