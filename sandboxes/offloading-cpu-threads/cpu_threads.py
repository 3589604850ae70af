# cpu_threads.py
import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

N = 10_000_000


def sum_of_squares(n: int) -> int:
    """Pure Python arithmetic: CPU-bound, and it needs the GIL for every step."""
    total = 0
    for i in range(n):
        total += i * i
    return total


async def main(one: float) -> None:
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=4) as pool:
        start = time.perf_counter()
        await asyncio.gather(*(loop.run_in_executor(pool, sum_of_squares, N) for _ in range(4)))
        four = time.perf_counter() - start
    print(f"4 calls on 4 threads: {four:.2f} s  ({four / one:.1f} x one call)")


if __name__ == "__main__":
    start = time.perf_counter()
    sum_of_squares(N)  # one call on the main thread, before the event loop starts: the yardstick
    one = time.perf_counter() - start
    print(f"1 call, no pool:      {one:.2f} s")
    asyncio.run(main(one))
