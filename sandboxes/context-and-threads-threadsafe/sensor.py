# sensor.py: a blocking driver in a worker thread talks to the event loop
import asyncio
import threading
import time

START = time.perf_counter()
WRONG_WAY = False  # True: the thread calls queue.put_nowait itself instead of through call_soon_threadsafe


def log(message: str) -> None:
    print(f"{time.perf_counter() - START:5.2f} s  {threading.current_thread().name:<10} {message}")


async def calibrate(raw: int) -> float:
    """Async code the driver needs an answer from (in a real app: a call on the app's async client)."""
    await asyncio.sleep(0.1)
    return raw * 1.5


def read_sensor(loop: asyncio.AbstractEventLoop, readings: asyncio.Queue) -> None:
    """Sync code: a driver that blocks until each reading. It runs in a worker thread, never on the loop."""
    for n in range(1, 4):
        time.sleep(0.3)  # waiting for the hardware
        # Needs an answer: hand the coroutine to the loop's thread, and block this one until it is done.
        value = asyncio.run_coroutine_threadsafe(calibrate(n * 10), loop).result(timeout=2)
        log(f"reading {n} calibrated: {value}")
        sent = time.perf_counter()
        if WRONG_WAY:
            readings.put_nowait((n, value, sent))  # touches the loop's objects from another thread
        else:
            # Fire and forget: the loop runs put_nowait on its own thread, woken up to do it now.
            loop.call_soon_threadsafe(readings.put_nowait, (n, value, sent))


async def consume(readings: asyncio.Queue) -> float:
    slowest = 0.0
    for _ in range(3):
        n, value, sent = await readings.get()
        waited = time.perf_counter() - sent
        slowest = max(slowest, waited)
        log(f"reading {n} stored: {value}, {waited * 1000:.0f} ms after the thread sent it")
    return slowest


async def main() -> None:
    loop = asyncio.get_running_loop()
    readings: asyncio.Queue[tuple[int, float, float]] = asyncio.Queue()
    consumer = asyncio.create_task(consume(readings))
    await asyncio.to_thread(read_sensor, loop, readings)
    slowest = await consumer
    if slowest < 0.15:
        log("every reading reached the loop within 0.15 s")
    else:
        log(f"a reading waited {slowest:.2f} s for the loop to wake up")


asyncio.run(main())
