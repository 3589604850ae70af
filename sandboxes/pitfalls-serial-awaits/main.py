# main.py: BROKEN on purpose. Four independent calls, made one after another.
import asyncio
import os
import time

import httpx

UPSTREAM_URL = os.environ["UPSTREAM_URL"]  # a fake weather service: each answer takes 300 ms
CITIES = ["Lisbon", "Osaka", "Lima", "Oslo"]


async def fetch_weather(client: httpx.AsyncClient, city: str, t0: float) -> dict:
    response = await client.get(f"/weather/{city}?delay=300")
    print(f"{city:<7} answered at {time.perf_counter() - t0:.2f} s", flush=True)
    return response.json()


async def main() -> None:
    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=UPSTREAM_URL, timeout=5.0) as client:
        reports = []
        for city in CITIES:
            task = asyncio.create_task(fetch_weather(client, city, t0))
            reports.append(await task)  # BUG: waits for this city before the next one starts
    print(f"{len(reports)} reports in {time.perf_counter() - t0:.2f} s")


asyncio.run(main())
