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
    orders = [("tea", 0.3), ("coffee", 0.1), ("cocoa", 0.2)]
    results = []
    for drink, seconds in orders:
        results.append(await brew(drink, seconds))
    log(f"main: gather returned {results}")


asyncio.run(main())
