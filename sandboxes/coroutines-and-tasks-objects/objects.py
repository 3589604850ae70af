# objects.py
import asyncio
import time

START = time.perf_counter()


def log(message: str) -> None:
    print(f"{time.perf_counter() - START:4.2f} s  {message}")


async def brew(drink: str, seconds: float) -> str:
    log(f"{drink}: started")
    await asyncio.sleep(seconds)  # stand-in for waiting on I/O
    log(f"{drink}: ready")
    return drink


async def main() -> None:
    # 1. Calling a coroutine function runs none of its body: it returns a coroutine object.
    coro = brew("tea", 0.2)
    log(f"brew('tea', 0.2) returned a {type(coro).__name__}")
    await asyncio.sleep(0.1)
    log("0.1 s later the tea has not even started")
    log(f"await coro -> {await coro!r}")  # only now does brew's body run, inside main

    # 2. create_task hands the coroutine to the event loop, which starts it on its own.
    task = asyncio.create_task(brew("coffee", 0.2))
    log(f"create_task returned a {type(task).__name__}, done={task.done()}")
    await asyncio.sleep(0.1)
    log("0.1 s later the coffee is already brewing; main did not await it")
    log(f"await task -> {await task!r}")


asyncio.run(main())
