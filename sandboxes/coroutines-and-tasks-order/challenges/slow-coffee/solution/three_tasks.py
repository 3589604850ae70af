# three_tasks.py
import asyncio
import time

START = time.perf_counter()


def log(message: str) -> None:
    print(f"{time.perf_counter() - START:4.2f} s  {message}")


async def brew(drink: str, seconds: float) -> str:
    log(f"{drink}: started, needs {seconds} s")
    await asyncio.sleep(seconds)  # stand-in for waiting on I/O
    log(f"{drink}: ready")
    return drink


async def main() -> None:
    orders = [("tea", 0.3), ("coffee", 0.5), ("cocoa", 0.2)]
    tasks = [asyncio.create_task(brew(drink, seconds)) for drink, seconds in orders]
    log("main: 3 tasks created, none has started yet")
    results = await asyncio.gather(*tasks)
    log(f"main: gather returned {results}")


asyncio.run(main())
