# shield.py: a deadline for the caller, not for the write that must finish
import asyncio
import time

START = time.perf_counter()
DEADLINE = 0.3  # seconds the caller is willing to wait
SAVE_TIME = 0.5  # seconds the database needs to commit an order

# Shielded writes still in progress: the loop keeps only a weak reference to a task,
# so we hold them here, and wait for them before the program ends.
in_flight: set[asyncio.Task] = set()


def log(message: str) -> None:
    print(f"{time.perf_counter() - START:5.2f} s  {message}")


async def save_order(order_id: str) -> None:
    log(f"   {order_id}: transaction started")
    try:
        await asyncio.sleep(SAVE_TIME)  # the database, committing
    except asyncio.CancelledError:
        log(f"   {order_id}: cancelled half-way, rolled back")
        raise
    log(f"   {order_id}: committed")


async def checkout(order_id: str, protect: bool) -> None:
    try:
        async with asyncio.timeout(DEADLINE):
            if protect:
                saving = asyncio.create_task(save_order(order_id))
                in_flight.add(saving)
                saving.add_done_callback(in_flight.discard)
                await asyncio.shield(saving)  # the timeout cancels this await, not the task
            else:
                await save_order(order_id)  # the timeout cancels the write itself
        log(f"{order_id}: saved in time")
    except TimeoutError:
        log(f"{order_id}: caller gave up after {DEADLINE} s (answers 504)")


async def main() -> None:
    await asyncio.gather(checkout("order-1", protect=False), checkout("order-2", protect=True))
    # asyncio.run cancels every task still running when main returns: let the writes finish first.
    await asyncio.gather(*in_flight)
    log("main: every shielded write is done")


asyncio.run(main())
