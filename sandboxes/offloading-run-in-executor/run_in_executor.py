# run_in_executor.py
import asyncio
import contextvars
import functools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

START = time.perf_counter()
# Which request this work belongs to: in a server, a middleware would set it for every request.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def log(message: str) -> None:
    print(f"{time.perf_counter() - START:5.2f} s  {message}")


def upload(name: str, *, bucket: str) -> str:
    """A blocking SDK call that takes a keyword argument: 0.5 s on whichever thread runs it."""
    time.sleep(0.5)
    return f"{name} -> {bucket} (request_id={request_id.get()}) on {threading.current_thread().name}"


async def main() -> None:
    request_id.set("req-42")
    loop = asyncio.get_running_loop()  # the loop running this coroutine
    # Our own pool, two threads wide, with a name that shows up in the thread lanes.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="uploader") as pool:
        futures = [
            # run_in_executor passes positional arguments only: bind keywords with functools.partial.
            # As is, the thread does not see this task's context variables.
            loop.run_in_executor(pool, functools.partial(upload, name, bucket="invoices"))
            for name in ["a.pdf", "b.pdf"]
        ] + [
            # Inside a copy of the current context, as asyncio.to_thread does it.
            loop.run_in_executor(pool, contextvars.copy_context().run, functools.partial(upload, name, bucket="invoices"))
            for name in ["c.pdf", "d.pdf"]
        ]
        for finished in asyncio.as_completed(futures):  # in the order they finish
            log(await finished)


asyncio.run(main())
