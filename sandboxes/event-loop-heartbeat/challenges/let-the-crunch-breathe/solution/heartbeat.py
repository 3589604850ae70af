# heartbeat.py
import asyncio
import time

START = time.perf_counter()


def log(message: str) -> None:
    print(f"{time.perf_counter() - START:4.2f} s  {message}")


async def heartbeat() -> None:
    # Asks to wake up every 0.1 s and reports the real gap between beats.
    last = time.perf_counter()
    for _ in range(6):
        await asyncio.sleep(0.1)
        now = time.perf_counter()
        log(f"beat, gap {now - last:.2f} s")
        last = now


async def crunch() -> None:
    await asyncio.sleep(0.25)
    log("crunch: start")
    t0 = time.perf_counter()
    total = 0
    for i in range(10_000_000):  # pure Python arithmetic, no await anywhere
        total += i * i
        if i % 100_000 == 0:
            await asyncio.sleep(0)  # let the loop run other tasks
    log(f"crunch: done after {time.perf_counter() - t0:.2f} s")


async def main() -> None:
    await asyncio.gather(heartbeat(), crunch())


asyncio.run(main())
