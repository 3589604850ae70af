# to_thread.py
import asyncio
import time

START = time.perf_counter()


def log(message: str) -> None:
    print(f"{time.perf_counter() - START:5.2f} s  {message}")


def read_report(name: str) -> str:
    """A blocking call, like a sync SDK or an old client library: it holds its thread for 0.6 s."""
    time.sleep(0.6)
    return f"report {name}"


async def heartbeat() -> None:
    """Ticks every 0.2 s while the loop is free; a gap in the ticks means the loop was blocked."""
    while True:
        log("tick")
        await asyncio.sleep(0.2)


async def main() -> None:
    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0.05)  # let the first tick print

    log("calling read_report('A') directly, on the loop's thread")
    await asyncio.to_thread(read_report, "A")
    log("read_report('A') returned")

    log("sending B, C and D to threads with asyncio.to_thread")
    reports = await asyncio.gather(
        asyncio.to_thread(read_report, "B"),
        asyncio.to_thread(read_report, "C"),
        asyncio.to_thread(read_report, "D"),
    )
    log(f"got {reports}")
    beat.cancel()


asyncio.run(main())
