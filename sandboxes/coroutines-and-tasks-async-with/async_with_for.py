# async_with_for.py: `async with` and `async for` are awaits in statement form.
# Two exports run as tasks; each opens a connection (an async context manager),
# reads rows from an async generator, and closes the connection on the way out.
import asyncio
import time
from contextlib import asynccontextmanager

STARTED = time.perf_counter()


def log(message: str) -> None:
    print(f"{time.perf_counter() - STARTED:.2f} s  {message}")


@asynccontextmanager
async def connection(name: str):
    log(f"{name}: connecting")
    await asyncio.sleep(0.1)  # the handshake: this await is the `async with` line's
    try:
        yield f"{name}-conn"  # the value `as` binds; the block runs here
    finally:
        await asyncio.sleep(0.05)  # saying goodbye: awaited when the block is left, however it is left
        log(f"{name}: closed")


async def rows(conn: str, count: int):
    """An async generator: `async def` with `yield`. Each row is awaited before it is handed out."""
    for n in range(1, count + 1):
        await asyncio.sleep(0.1)  # waiting for the next row from the server
        yield f"row {n} from {conn}"


async def export(name: str, count: int) -> int:
    received = 0
    async with connection(name) as conn:
        async for row in rows(conn, count):
            log(f"{name}: {row}")
            received += 1
    return received


async def main() -> None:
    results = await asyncio.gather(export("A", 3), export("B", 2))
    log(f"main: gather returned {results}")


asyncio.run(main())
