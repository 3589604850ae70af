# forgot_await.py
import asyncio
import time

saved: list[str] = []


async def save_order(order_id: int) -> None:
    await asyncio.sleep(0.1)  # stand-in for a database write
    saved.append(f"order {order_id}")


async def main() -> None:
    t0 = time.perf_counter()
    save_order(1)  # BUG: no await, so the body never runs
    print(f"save_order(1) without await: {time.perf_counter() - t0:.2f} s, saved = {saved}")

    t0 = time.perf_counter()
    await save_order(2)
    print(f"await save_order(2):         {time.perf_counter() - t0:.2f} s, saved = {saved}")

    t0 = time.perf_counter()
    asyncio.sleep(0.5)  # BUG: the same mistake with a sleep: it waits for nothing
    print(f"asyncio.sleep(0.5) without await: {time.perf_counter() - t0:.2f} s")


asyncio.run(main())
