# one_thread.py
import asyncio
import threading
import time

START = time.perf_counter()


def log(message: str) -> None:
    thread = threading.current_thread().name
    print(f"{time.perf_counter() - START:4.2f} s  [{thread}]  {message}")


async def worker(name: str, delay: float) -> str:
    log(f"{name} starts, will wait {delay} s")
    await asyncio.sleep(delay)
    log(f"{name} resumes and finishes")
    return name


async def main() -> None:
    a = asyncio.create_task(worker("A", 0.3), name="A")
    b = asyncio.create_task(worker("B", 0.1), name="B")
    log("main: two tasks created, now awaiting them")
    finished = await asyncio.gather(a, b)
    log(f"main: gather returned {finished}")


asyncio.run(main())
