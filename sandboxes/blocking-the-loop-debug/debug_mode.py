# debug_mode.py
import asyncio
import logging
import sqlite3
import sys
import time

# asyncio reports through the "asyncio" logger. Send its warnings to stdout, with the time.
logging.basicConfig(
    level=logging.WARNING,
    stream=sys.stdout,
    format="%(relativeCreated)5.0f ms  %(name)s %(levelname)s: %(message)s",
)

SLOW_QUERY = """
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500000)
    SELECT count(*) FROM n
"""


def count_rows() -> int:
    db = sqlite3.connect(":memory:")  # the stdlib driver is synchronous
    try:
        (rows,) = db.execute(SLOW_QUERY).fetchone()
        return rows
    finally:
        db.close()


async def heartbeat() -> None:
    for _ in range(12):
        await asyncio.sleep(0.1)


async def warm_cache() -> None:
    await asyncio.sleep(0.1)
    time.sleep(0.3)  # blocking call 1
    await asyncio.sleep(0.1)


async def nightly_report() -> None:
    await asyncio.sleep(0.5)
    rows = count_rows()  # blocking call 2
    print(f"report: {rows} rows")


async def main() -> None:
    asyncio.get_running_loop().slow_callback_duration = 0.05  # the default is 0.1 s
    async with asyncio.TaskGroup() as tg:
        tg.create_task(heartbeat(), name="heartbeat")
        tg.create_task(warm_cache(), name="warm-cache")
        tg.create_task(nightly_report(), name="nightly-report")


asyncio.run(main(), debug=True)
