# concurrent_page.py
import asyncio
import time

START = time.perf_counter()


def log(message: str) -> None:
    print(f"{time.perf_counter() - START:5.2f} s  {message}")


async def load_user() -> str:
    log("db: query sent")
    await asyncio.sleep(1.500)  # stand-in for a 1500 ms database query
    log("db: rows received")
    return "Ada"


async def price_cart() -> float:
    log("cpu: pricing cart")
    deadline = time.perf_counter() + 0.001
    while time.perf_counter() < deadline:  # real CPU work: spin for 1 ms
        pass
    log("cpu: done")
    return 42.50


async def fetch_weather() -> str:
    log("api: request sent")
    await asyncio.sleep(1.000)  # stand-in for a 1000 ms external API call
    log("api: response received")
    return "sunny"


async def main() -> None:
    user, total, weather = await asyncio.gather(
        load_user(),
        price_cart(),
        fetch_weather(),
    )
    log(f"page ready: {user}, cart {total:.2f}, {weather}")


asyncio.run(main())
