# cpu_processes.py
import asyncio
import time
from concurrent.futures import ProcessPoolExecutor

N = 10_000_000


def sum_of_squares(n: int) -> int:
    """The same function; each worker process has its own interpreter and its own GIL."""
    total = 0
    for i in range(n):
        total += i * i
    return total


async def main(one: float) -> None:
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=4) as pool:  # more workers than a 2-core machine has cores
        await loop.run_in_executor(pool, abs, 0)  # start the workers before timing anything
        start = time.perf_counter()
        await asyncio.gather(*(loop.run_in_executor(pool, sum_of_squares, N) for _ in range(4)))
        four = time.perf_counter() - start
    print(f"4 calls on 4 processes: {four:.2f} s  ({four / one:.1f} x one call)")


# The guard matters: where workers are spawned rather than forked (macOS, Windows),
# each worker imports this file, and must not start another pool when it does.
if __name__ == "__main__":
    start = time.perf_counter()
    sum_of_squares(N)  # one call on the main thread, before the event loop starts: the yardstick
    one = time.perf_counter() - start
    print(f"1 call, no pool:        {one:.2f} s")
    asyncio.run(main(one))
