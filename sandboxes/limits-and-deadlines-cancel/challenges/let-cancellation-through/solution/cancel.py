# cancel.py
import asyncio
import time

START = time.perf_counter()


def log(message: str) -> None:
    print(f"{time.perf_counter() - START:5.2f} s  {message}")


async def careful_upload() -> str:
    log("careful:  connection opened")
    try:
        await asyncio.sleep(2)  # the slow part: 2 s of waiting on the network
        return "uploaded"
    finally:
        log("careful:  connection closed")  # runs on success, on error and on cancellation


async def careless_upload() -> str:
    log("careless: connection opened")
    for attempt in (1, 2):
        try:
            await asyncio.sleep(1)  # send the file
            return f"uploaded on attempt {attempt}"
        except asyncio.CancelledError:
            log(f"careless: attempt {attempt} interrupted")
            raise  # a cancellation is not a network error: let it reach the deadline
        finally:
            log("careless: connection closed")  # now runs on cancellation too


async def with_deadline(upload) -> None:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(0.5):
            result = await upload()
        log(f"{upload.__name__}: returned {result!r} after {time.perf_counter() - started:.2f} s, no TimeoutError")
    except TimeoutError:
        log(f"{upload.__name__}: TimeoutError after {time.perf_counter() - started:.2f} s")


async def main() -> None:
    await asyncio.gather(with_deadline(careful_upload), with_deadline(careless_upload))


asyncio.run(main())
