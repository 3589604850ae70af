# run_in_executor.py
import asyncio
import functools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

START = time.perf_counter()


def log(message: str) -> None:
    print(f"{time.perf_counter() - START:5.2f} s  {message}")


def upload(name: str, *, bucket: str) -> str:
    """A blocking SDK call that takes a keyword argument: 0.5 s on whichever thread runs it."""
    time.sleep(0.5)
    return f"{name} -> {bucket} on {threading.current_thread().name}"


async def main() -> None:
    loop = asyncio.get_running_loop()  # the loop running this coroutine
    # Our own pool, two threads wide, with a name that shows up in the thread lanes.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="uploader") as pool:
        futures = [
            # run_in_executor passes positional arguments only: bind keywords with functools.partial.
            loop.run_in_executor(pool, functools.partial(upload, name, bucket="invoices"))
            for name in ["a.pdf", "b.pdf", "c.pdf", "d.pdf"]
        ]
        for finished in asyncio.as_completed(futures):  # in the order they finish
            log(await finished)


asyncio.run(main())
