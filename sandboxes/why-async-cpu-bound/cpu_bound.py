# cpu_bound.py
import asyncio
import time

START = time.perf_counter()


def log(message: str) -> None:
    print(f"{time.perf_counter() - START:5.2f} s  {message}")


async def crunch(name: str) -> None:
    log(f"{name}: start")
    deadline = time.perf_counter() + 0.200
    while time.perf_counter() < deadline:  # 200 ms of pure CPU, no await
        pass
    log(f"{name}: done")


async def main() -> None:
    await asyncio.gather(crunch("A"), crunch("B"), crunch("C"))
    log("all done")


asyncio.run(main())
