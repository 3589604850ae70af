# groups.py
import asyncio
import time

START = time.perf_counter()


def log(message: str) -> None:
    print(f"{time.perf_counter() - START:5.2f} s  {message}")


async def fetch(name: str, seconds: float, fail: bool = False) -> str:
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        log(f"   {name}: cancelled, cleaning up")
        raise  # always let the cancellation continue
    if fail:
        log(f"   {name}: raises ValueError")
        raise ValueError(f"{name} is down")
    log(f"   {name}: done")
    return name


async def user() -> str:
    return await fetch("user", 0.3)


async def prices() -> str:
    return await fetch("prices", 0.1, fail=True)


async def weather() -> str:
    return await fetch("weather", 1.0)


async def fail_fast() -> None:
    log("1) gather: the first error goes straight to the caller")
    tasks = [asyncio.create_task(child()) for child in (user, prices, weather)]
    try:
        await asyncio.gather(*tasks)
    except ValueError as exc:
        running = [t.get_coro().__name__ for t in tasks if not t.done()]
        log(f"   gather raised {exc!r}; still running: {running}")
    await asyncio.wait(tasks)  # nobody cancelled them: they run to the end


async def collect_everything() -> None:
    log("2) gather(return_exceptions=True): errors come back as results")
    results = await asyncio.gather(user(), prices(), weather(), return_exceptions=True)
    log(f"   results: {results}")


async def task_group() -> None:
    log("3) TaskGroup: one child fails, the others are cancelled")
    try:
        async with asyncio.TaskGroup() as tg:
            for child in (user, prices, weather):
                tg.create_task(child())
    except* ValueError as group:
        log(f"   TaskGroup raised {group.exceptions!r}")


async def main() -> None:
    await fail_fast()
    await collect_everything()
    await task_group()


asyncio.run(main())
